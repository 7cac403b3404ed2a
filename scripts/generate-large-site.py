#!/usr/bin/env python3
"""Writes a synthetic site with many assets and rules, for measuring how the checker scales.

usage: generate-large-site.py DIRECTORY RULES [ASSETS] [--cells N] [--distinct-pairs] [--literal]

  --cells N          N pairs of zones (ops-I and cell-I) joined by one conduit each, 2N zones (default 40)
  --distinct-pairs   every rule of a conduit joins a different (source, destination) pair of hosts, as long as there
                     are enough assets (rules per conduit <= (assets per cell)^2); by default pairs repeat
  --literal          rules name the hosts by address instead of by asset name
"""
import ipaddress
import math
import os
import sys

arguments = sys.argv[1:]
cells = 40
distinct_pairs = False
literal = False
positional = []
while arguments:
    argument = arguments.pop(0)
    if argument == "--cells":
        cells = int(arguments.pop(0))
    elif argument == "--distinct-pairs":
        distinct_pairs = True
    elif argument == "--literal":
        literal = True
    else:
        positional.append(argument)
if len(positional) not in (2, 3) or cells < 1:
    sys.exit(__doc__.strip())
directory, rules = positional[0], int(positional[1])
assets = int(positional[2]) if len(positional) > 2 else max(200, rules // 10)
# Up to 50 cells, while the addresses do not repeat (up to 125,000 assets in 40 cells, 62,500 in 2): a /16 per
# zone (10.50+I.0.0/16, 10.100+I.0.0/16). Beyond: ops zones in 10.0.0.0/9 and cell zones in 10.128.0.0/9, each the
# smallest block that holds its assets.
wide = cells > 50 or assets > 62500 * cells // math.gcd(62500, cells)
block = 4
while block - 2 < (assets + cells - 1) // cells:
    block *= 2
if wide and cells * block > 1 << 23:
    sys.exit(f"{assets} assets in {cells} cells do not fit in 10.0.0.0/9")


def network(kind, cell):
    if not wide:
        return f"10.{(50 if kind == 'ops' else 100) + cell}.0.0/16"
    base = ipaddress.IPv4Address("10.0.0.0" if kind == "ops" else "10.128.0.0")
    return f"{base + cell * block}/{32 - block.bit_length() + 1}"


def address(kind, index):
    cell = index % cells
    if not wide:
        return f"10.{(50 if kind == 'ops' else 100) + cell}.{index // 250 % 250}.{index % 250 + 1}"
    base = ipaddress.IPv4Address("10.0.0.0" if kind == "ops" else "10.128.0.0")
    return str(base + cell * block + index // cells + 1)


os.makedirs(directory, exist_ok=True)
with open(os.path.join(directory, "assets.csv"), "w") as baseline:
    baseline.write("name,ip,role,vendor,model,firmware,criticality,sl-c\n")
    for index in range(assets):
        baseline.write(f"plc-{index},{address('cell', index)},plc,Siemens,S7-1500,V2.9,high,3\n")
        baseline.write(f"hmi-{index},{address('ops', index)},hmi,Siemens,TP700,V17,medium,2\n")
with open(os.path.join(directory, "site.conduit"), "w") as policy:
    policy.write('site large\nbaseline "assets.csv"\n\n')
    for cell in range(cells):
        policy.write(f"zone ops-{cell} {{\n  level 2\n  security-level 2\n  network {network('ops', cell)}\n}}\n")
        policy.write(f"zone cell-{cell} {{\n  level 1\n  security-level 3\n  network {network('cell', cell)}\n}}\n")
    policy.write("gateway gw {\n")
    for cell in range(cells):
        policy.write(f"  interface o{cell} ops-{cell}\n  interface c{cell} cell-{cell}\n")
    policy.write("  management service ssh from hmi-0\n}\n")
    per_conduit = max(1, rules // cells)
    for cell in range(cells):
        policy.write(f"conduit ops-cell-{cell} {{\n  between ops-{cell} and cell-{cell}\n  security-level 3\n")
        policy.write('  owner "ot"\n  justification "polling"\n')
        for rule in range(per_conduit):
            if distinct_pairs:
                in_cell = (assets - cell - 1) // cells + 1
                source = rule % in_cell * cells + cell
                target = (rule // in_cell + rule) % in_cell * cells + cell
            else:
                source = (rule * cells + cell) % assets
                target = (rule * 7 * cells + cell) % assets
                source -= source % cells
                target -= target % cells
                source += cell
                target += cell
            source_name = address("ops", source) if literal else f"hmi-{source}"
            target_name = address("cell", target) if literal else f"plc-{target}"
            policy.write(f"  allow {source_name} -> {target_name} service tcp/{1024 + rule % 5000}\n")
        policy.write("}\n")
