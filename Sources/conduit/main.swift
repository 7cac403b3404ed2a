print("conduit")
