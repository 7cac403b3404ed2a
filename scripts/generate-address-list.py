#!/usr/bin/env python3
"""Writes a site whose one rule lists COUNT addresses (never adjacent, in a shuffled order), for measuring how the
checker scales with the length of an endpoint list.

usage: generate-address-list.py DIRECTORY COUNT [--known]

  --known   every listed address is an asset of the baseline; by default none is, so that each gets an
            unknown-device warning (COUNT findings on one source line)
"""
import os
import random
import sys

arguments = [argument for argument in sys.argv[1:] if argument != "--known"]
known = "--known" in sys.argv[1:]
if len(arguments) != 2 or not arguments[1].isdigit() or not 0 < int(arguments[1]) <= 30000:
    sys.exit(__doc__.strip())
directory, count = arguments[0], int(arguments[1])
generator = random.Random(1)
hosts = [f"10.50.{2 * index // 250}.{2 * index % 250 + 1}" for index in range(count)]
order = list(range(count))
generator.shuffle(order)
os.makedirs(directory, exist_ok=True)
with open(os.path.join(directory, "assets.csv"), "w") as baseline:
    baseline.write("name,ip,role,vendor,model,firmware,criticality,sl-c\n")
    for index in range(count if known else 1):
        baseline.write(f"hmi-{index},{hosts[index]},hmi,Siemens,TP700,V17,medium,2\n")
    baseline.write("plc-1,10.100.0.1,plc,Siemens,S7-1500,V2.9,high,3\n")
with open(os.path.join(directory, "site.conduit"), "w") as policy:
    policy.write('site addresses\nbaseline "assets.csv"\n')
    policy.write("zone ops {\n  level 2\n  security-level 2\n  network 10.50.0.0/16\n}\n")
    policy.write("zone cell {\n  level 1\n  security-level 3\n  network 10.100.0.0/16\n}\n")
    policy.write("gateway gw {\n  interface o ops\n  interface c cell\n  management service ssh from hmi-0\n}\n")
    policy.write('conduit ops-cell {\n  between ops and cell\n  security-level 3\n  owner "ot"\n  justification "x"\n')
    policy.write(f"  allow {', '.join(hosts[index] for index in order)} -> plc-1 service tcp/502\n}}\n")
