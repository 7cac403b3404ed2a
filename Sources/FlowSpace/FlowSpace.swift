// FlowSpace: address and port interval sets.
