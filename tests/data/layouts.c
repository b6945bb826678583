/* The structures of issue 15, taken and returned by value, and what the client explores
   through netrefs (scale, greeting); built with gcc -m32 by tests/conftest.py. */
#include <stddef.h>

typedef struct { int a; double b; } IntDouble;
typedef struct { long a; int b; } LongInt;
typedef struct { char c; double d; short s; } Mixed;
typedef struct { IntDouble inner; size_t n; double xs[3]; } Nested;

double sum_int_double(IntDouble s) { return s.a + s.b; }

long sum_long_int(LongInt s) { return s.a + s.b; }

double sum_mixed(Mixed m) { return m.c + m.d + m.s; }

double sum_nested(Nested n) {
    return n.inner.a + n.inner.b + (double)n.n + n.xs[0] + n.xs[1] + n.xs[2];
}

Nested make_nested(int k) {
    Nested n = {{k, k / 2.0}, (size_t)k + 1, {k + 0.5, k + 1.5, k + 2.5}};
    return n;
}

IntDouble make_int_double(int a, double b) {
    IntDouble s = {a, b};
    return s;
}

LongInt make_long_int(long a, int b) {
    LongInt s = {a, b};
    return s;
}

Mixed make_mixed(char c, double d, short s) {
    Mixed m = {c, d, s};
    return m;
}

/* sizeof, then the offset of each field, of structure `which` (0..3); returns the count. */
int layout_fixed(int which, size_t *out) {
    switch (which) {
    case 0:
        out[0] = sizeof(IntDouble); out[1] = offsetof(IntDouble, a); out[2] = offsetof(IntDouble, b);
        return 3;
    case 1:
        out[0] = sizeof(LongInt); out[1] = offsetof(LongInt, a); out[2] = offsetof(LongInt, b);
        return 3;
    case 2:
        out[0] = sizeof(Mixed); out[1] = offsetof(Mixed, c); out[2] = offsetof(Mixed, d);
        out[3] = offsetof(Mixed, s);
        return 4;
    case 3:
        out[0] = sizeof(Nested); out[1] = offsetof(Nested, inner); out[2] = offsetof(Nested, n);
        out[3] = offsetof(Nested, xs);
        return 4;
    }
    return 0;
}

double scale(double x, double factor) { return x * factor; }

const char *greeting(void) { return "hello from i386"; }

long add_longs(long a, long b) { return a + b; }
