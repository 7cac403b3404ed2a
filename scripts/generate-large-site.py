#!/usr/bin/env python3
"""Writes a synthetic site with many assets and rules, for measuring how the checker scales.

usage: generate-large-site.py DIRECTORY RULES [ASSETS]
"""
import os
import sys

directory, rules = sys.argv[1], int(sys.argv[2])
assets = int(sys.argv[3]) if len(sys.argv) > 3 else max(200, rules // 10)
os.makedirs(directory, exist_ok=True)
cells = 40
with open(os.path.join(directory, "assets.csv"), "w") as baseline:
    baseline.write("name,ip,role,vendor,model,firmware,criticality,sl-c\n")
    for index in range(assets):
        cell = index % cells
        baseline.write(f"plc-{index},10.{100 + cell}.{index // 250 % 250}.{index % 250 + 1},plc,Siemens,S7-1500,V2.9,high,3\n")
        baseline.write(f"hmi-{index},10.{50 + cell}.{index // 250 % 250}.{index % 250 + 1},hmi,Siemens,TP700,V17,medium,2\n")
with open(os.path.join(directory, "site.conduit"), "w") as policy:
    policy.write('site large\nbaseline "assets.csv"\n\n')
    for cell in range(cells):
        policy.write(f"zone ops-{cell} {{\n  level 2\n  security-level 2\n  network 10.{50 + cell}.0.0/16\n}}\n")
        policy.write(f"zone cell-{cell} {{\n  level 1\n  security-level 3\n  network 10.{100 + cell}.0.0/16\n}}\n")
    policy.write("gateway gw {\n")
    for cell in range(cells):
        policy.write(f"  interface o{cell} ops-{cell}\n  interface c{cell} cell-{cell}\n")
    policy.write("  management service ssh from hmi-0\n}\n")
    per_conduit = rules // cells
    for cell in range(cells):
        policy.write(f"conduit ops-cell-{cell} {{\n  between ops-{cell} and cell-{cell}\n  security-level 3\n")
        policy.write('  owner "ot"\n  justification "polling"\n')
        for rule in range(per_conduit):
            source = (rule * cells + cell) % assets
            target = (rule * 7 * cells + cell) % assets
            source -= source % cells
            target -= target % cells
            policy.write(f"  allow hmi-{source + cell} -> plc-{target + cell} service tcp/{1024 + rule % 5000}\n")
        policy.write("}\n")
