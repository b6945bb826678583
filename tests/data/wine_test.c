/* A small Windows DLL for the tests of Windows DLLs from Linux (tests/test_wine.py), built
 * by them with i686-w64-mingw32-gcc -shared -Wl,--kill-at: stdcall functions (undecorated
 * names), a struct by value both ways, and a Windows error code. */
#include <windows.h>

typedef struct {
    int id;
    double weight;
    char tag;
} Item;

__declspec(dllexport) int __stdcall add_stdcall(int a, int b) { return a + b; }

__declspec(dllexport) double __stdcall item_total(Item item, int count) {
    return item.weight * count + item.id + (item.tag == 'W' ? 0.5 : 0.0);
}

__declspec(dllexport) Item __stdcall item_make(int id, double weight) {
    Item item = {id, weight, 'W'};
    return item;
}

__declspec(dllexport) BOOL __stdcall deny_access(void) {
    SetLastError(ERROR_ACCESS_DENIED);
    return FALSE;
}
