#!/usr/bin/env python3
"""Show the machine code C2 made of a method, on a JDK without the hsdis plugin.

Without hsdis, -XX:+PrintAssembly falls back to "abstract disassembly": the code as hex words.
This script cuts one compiled method out of such a log and disassembles it with objdump.

  java ... -XX:-TieredCompilation -XX:+UnlockDiagnosticVMOptions \
      -XX:CompileCommand=print,dev.ferry.moe.kernel.Gemm::dot4x4 ... >log.txt 2>&1
  bench/jit-disasm.py log.txt            # the last compiled method in the log
  bench/jit-disasm.py log.txt 1          # the first ("%" in its header marks an OSR compile)
  bench/jit-disasm.py log.txt --list     # the compiled methods in the log
  bench/jit-disasm.py log.txt --stats    # instruction counts worth a first look

Things to look for: stack spills of vector registers (YMMWORD PTR [rsp+...]), a loop body copied
many times (unrolling), and per-access bounds or segment checks (cmp + jae, class compares).
"""
import re
import subprocess
import sys
import tempfile

HEX_LINE = re.compile(r"\s+0x([0-9a-f]+): ((?:[0-9a-f]{2,8} ?\|? ?)+)$")


def methods(log_text):
    parts = log_text.split("Compiled method")
    return ["Compiled method" + p for p in parts[1:]]


def code_bytes(method_text):
    start, data = None, bytearray()
    for line in method_text.splitlines():
        m = HEX_LINE.match(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        if start is None:
            start = addr
        if addr < start + len(data):
            continue  # an annotation repeats an address already read
        data += b"\x90" * (addr - start - len(data))
        data += bytes.fromhex(m.group(2).replace("|", "").replace(" ", ""))
    return start, bytes(data)


def disassemble(start, data):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(data)
        f.flush()
        return subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                               f"--adjust-vma={start:#x}", f.name],
                              capture_output=True, text=True, check=True).stdout


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    found = methods(open(argv[1]).read())
    if not found:
        sys.exit(f"{argv[1]}: no 'Compiled method' blocks (was -XX:CompileCommand=print,... given?)")
    if "--list" in argv:
        for i, m in enumerate(found, 1):
            print(i, m.splitlines()[0])
        return
    index = next((int(a) for a in argv[2:] if a.lstrip("-").isdigit()), -1)
    method = found[index - 1 if index > 0 else index]
    start, data = code_bytes(method)
    if start is None:
        sys.exit(f"{argv[1]}: the method has no hex code lines")
    asm = disassemble(start, data)
    print("#", method.splitlines()[0])
    if "--stats" in argv:
        lines = [l for l in asm.splitlines() if "\t" in l]
        def count(pattern):
            return sum(1 for l in lines if re.search(pattern, l))
        spills = count(r"[XY]MMWORD PTR \[rsp")
        calls = count(r"\tcall ")
        branches = count(r"\tjae ")
        print(f"instructions {len(lines)}, vector spills/reloads {spills}, FMAs {count('vfmadd')}, "
              f"calls {calls}, bounds branches {branches}")
        return
    print(asm)


if __name__ == "__main__":
    main(sys.argv)
