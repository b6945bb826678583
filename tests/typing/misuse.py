"""Calls that mypy --strict must reject, each on a line marked with the error it expects."""

from __future__ import annotations

from cpp import Cpp

from bitbridge import BridgePool


def misuse() -> None:
    with Cpp() as cpp:
        cpp.add("one", 2)  # expect: arg-type
        text: str = cpp.add(1, 2)  # expect: assignment
        print(text)
        cpp.add_or_subtract(1.0, 2.0, True)  # expect: call-arg
        cpp.no_such_method()  # expect: attr-defined
    Cpp(1)  # expect: call-arg
    with BridgePool(Cpp, workers=2) as pool:
        pool.submit(Cpp.add, "one", 2)  # expect: arg-type
        wrong: str = pool.submit(Cpp.add, 1, 2).result()  # expect: assignment
        print(wrong)
    with Cpp() as cpp:
        words: list[str] = list(cpp.map(cpp.add, [1], [2]))  # expect: arg-type
        print(words)
