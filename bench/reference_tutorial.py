"""The tutorial's handler as a reference: whole object in memory, json.loads per line, lists, JSON arrays out."""

import json
import sys

src, out = sys.argv[1], sys.argv[2]
with open(src, encoding="utf-8", errors="replace") as fh:
    content = fh.read()
valid, invalid = [], []
for line in content.strip().split("\n"):
    try:
        record = json.loads(line)
        if isinstance(record, dict) and record.get("level") and record.get("message"):
            valid.append(record)
        else:
            invalid.append({"raw": line, "reason": "missing level or message"})
    except json.JSONDecodeError:
        invalid.append({"raw": line, "reason": "invalid JSON"})
with open(out + ".processed.json", "w") as fh:
    json.dump(valid, fh)
with open(out + ".errors.json", "w") as fh:
    json.dump(invalid, fh)
print(len(valid), len(invalid))
