#!/usr/bin/env python3
"""Unpack the Milvus server from the PyPI `milvus` wheel, without its Python launcher.

Used by `tests/stack/stack.sh install` (standard library only).

  unpack_wheel.py WHEEL DEST

Writes DEST/bin/ (the `milvus` binary and its shared libraries, from milvus/data/bin/*.lzma),
DEST/config.yaml.template and DEST/glog.conf. DEST/bin is replaced as a whole, so a broken earlier
unpack leaves nothing behind.
"""
import lzma
import os
import shutil
import sys
import zipfile

PREFIX = "milvus/data/"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    wheel, dest = sys.argv[1], sys.argv[2]
    bin_dir = os.path.join(dest, "bin")
    tmp_dir = bin_dir + ".tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    found = set()
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.startswith(PREFIX + "bin/") and name.endswith(".lzma"):
                out = os.path.join(tmp_dir, os.path.basename(name)[: -len(".lzma")])
                with zf.open(name) as raw, lzma.LZMAFile(raw) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                os.chmod(out, 0o755)
                found.add("bin")
            elif name in (PREFIX + "config.yaml.template", PREFIX + "glog.conf"):
                with zf.open(name) as src, open(os.path.join(dest, os.path.basename(name)), "wb") as dst:
                    shutil.copyfileobj(src, dst)
                found.add(os.path.basename(name))
    if found != {"bin", "config.yaml.template", "glog.conf"} or not os.path.exists(
        os.path.join(tmp_dir, "milvus")
    ):
        sys.exit(f"unpack_wheel: {wheel} does not hold the expected milvus/data files (found {sorted(found)})")
    shutil.rmtree(bin_dir, ignore_errors=True)
    os.replace(tmp_dir, bin_dir)


if __name__ == "__main__":
    main()
