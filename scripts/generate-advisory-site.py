#!/usr/bin/env python3
"""Writes a site whose baseline draws real vendors, products, model numbers and versions from CISA's CSAF corpus,
for measuring `conduit impact --advisory` on the whole corpus.

usage: generate-advisory-site.py CORPUS_DIRECTORY OUTPUT_DIRECTORY [ASSETS] [--hit-share F]

Every product of every advisory under CORPUS_DIRECTORY (the unpacked cisa-ot-white-2017-2024.tar.xz) is a candidate;
each asset takes one at random (seeded, so the site is the same every run): its vendor, product name, first model
number and a version (the product's version when it names one, else one drawn below or above its range's bound), so
that thousands of matches happen and many more near misses. The assets lie in one control zone (SL-T 3) polled by
two HMIs in an operations zone (SL-T 2) over Modbus, EtherNet/IP and S7comm; a tenth of them are also reached over
HTTPS from an outside zone. With --hit-share F (default 1), only a share F of the assets take a product as it is; the
others are near misses of the same vendor and family: the product's name with an unlisted model number (its last
characters changed) and no part of the name the advisory uses, as a plant's unaffected devices of a hit vendor are.
"""
import csv
import json
import os
import random
import re
import sys

arguments = sys.argv[1:]
hit_share = 1.0
if "--hit-share" in arguments:
    at = arguments.index("--hit-share")
    hit_share = float(arguments[at + 1])
    del arguments[at:at + 2]
corpus, output = arguments[0], arguments[1]
count = int(arguments[2]) if len(arguments) > 2 else 40000
random.seed(62443)

products = []
for root, _, files in os.walk(corpus):
    for name in sorted(files):
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            continue
        stack = [(branch, {}) for branch in document.get("product_tree", {}).get("branches", [])]
        while stack:
            branch, context = stack.pop()
            context = dict(context)
            context[branch.get("category")] = (branch.get("name") or "").strip()
            if "product" in branch and context.get("vendor"):
                helper = branch["product"].get("product_identification_helper", {})
                models = helper.get("model_numbers") or []
                products.append((context["vendor"], context.get("product_name") or branch["product"].get("name", ""),
                                 models[0] if models else "", context.get("product_version") or
                                 context.get("product_version_range") or ""))
            stack.extend((child, context) for child in branch.get("branches", []))
products.sort()


def version_near(text):
    numbers = re.findall(r"\d+(?:\.\d+)*", text)
    if not numbers:
        return "1.0"
    parts = [int(part) for part in numbers[-1].split(".")]
    if random.random() < 0.5 and parts[-1] > 0:
        parts[-1] -= 1
    else:
        parts[-1] += 1
    return ".".join(str(part) for part in parts)


os.makedirs(output, exist_ok=True)
with open(os.path.join(output, "assets.csv"), "w", newline="", encoding="utf-8") as handle:
    writer = csv.writer(handle)
    writer.writerow(["name", "address", "role", "vendor", "product", "model", "version", "criticality"])
    for index in range(count):
        vendor, product, model, version = random.choice(products)
        if random.random() >= hit_share:
            product = "Unlisted " + (product.split()[0] if product.split() else "device") + f" {index % 97}X"
            model = (model[:-2] if len(model) > 2 else model) + "ZZ" if model else f"UNL-{index % 89}"
        if not version.startswith(("vers:", "<", ">", "=")) and version:
            chosen = version
        else:
            chosen = version_near(version)
        address = f"10.64.{index // 250}.{index % 250 + 2}"
        writer.writerow([f"dev-{index:05d}", address, "plc", vendor, product, model, chosen,
                         ["low", "medium", "high", "critical"][index % 4]])

with open(os.path.join(output, "site.conduit"), "w", encoding="utf-8") as handle:
    handle.write(f"""site advisory-bench
baseline "assets.csv"

zone internet {{
  level 4; security-level 1
  network outside
}}
zone ops {{
  level 3; security-level 2
  network 10.30.0.0/24
}}
zone ctl {{
  level 3; security-level 3
  network 10.64.0.0/16
}}
asset hmi-1 {{ address 10.30.0.31; role hmi }}
asset hmi-2 {{ address 10.30.0.32; role hmi }}
asset vendor-portal {{ address 203.0.113.10 }}

conduit ops-ctl {{
  between ops and ctl
  security-level 3; owner "ot"; justification "polling"
  allow role hmi -> zone ctl service modbus, enip, s7comm
}}

conduit internet-ctl {{
  between internet and ctl
  security-level 3; owner "ot"; justification "vendor portal"
  expires 2030-12-31
  allow vendor-portal -> 10.64.0.0/20 service https
}}
""")
