/* python.exe for a Windows Python folder that has none (one unpacked by bitbridge from
 * a PyInstaller bundle): run Python from the python3XY.dll next to it, as python.org's
 * python.exe does. Built by `bitbridge wine install` with
 *   i686-w64-mingw32-gcc -municode -O2 -s -DPYTHON_DLL='L"python314.dll"' -o python.exe
 */
#include <windows.h>

#ifndef PYTHON_DLL
#error "define PYTHON_DLL, the Python DLL's name as a wide string"
#endif

typedef int (*py_main_t)(int, wchar_t **);

int wmain(int argc, wchar_t **argv) {
    HMODULE dll = LoadLibraryW(PYTHON_DLL);
    if (!dll) return 126;
    py_main_t py_main = (py_main_t)GetProcAddress(dll, "Py_Main");
    if (!py_main) return 127;
    return py_main(argc, argv);
}
