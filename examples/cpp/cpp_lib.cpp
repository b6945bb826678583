// cpp_lib.cpp: the C++ example library, built for 32 bits as cpp_lib32.so.
// The functions follow the C++ example of msl-loadlib, so that code written for it
// can move to bitbridge unchanged.

#include <cmath>
#include <cstring>
#include <vector>

#define EXPORT extern "C" __attribute__((visibility("default")))

struct Point {
    double x;
    double y;
};

struct FourPoints {
    Point points[4];
};

struct NPoints {
    int n;
    Point *points;
};

static double distance(Point a, Point b) {
    return std::sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
}

// a + b
EXPORT int add(int a, int b) { return a + b; }

// a - b, in single precision
EXPORT float subtract(float a, float b) { return a - b; }

// a + b if do_addition, else a - b
EXPORT double add_or_subtract(double a, double b, bool do_addition) {
    return do_addition ? a + b : a - b;
}

// xout[i] = a * xin[i]
EXPORT void scalar_multiply(double a, const double *xin, int n, double *xout) {
    for (int i = 0; i < n; i++) xout[i] = a * xin[i];
}

// writes the n characters of original into reversed, last first (caller's buffer)
EXPORT void reverse_string_v1(const char *original, int n, char *reversed) {
    for (int i = 0; i < n; i++) reversed[i] = original[n - 1 - i];
}

// returns a new buffer holding original reversed (allocated by the library, never freed,
// as in the reference example)
EXPORT char *reverse_string_v2(const char *original, int n) {
    char *reversed = new char[n + 1];
    for (int i = 0; i < n; i++) reversed[i] = original[n - 1 - i];
    reversed[n] = '\0';
    return reversed;
}

// perimeter of the closed polygon through the four points
EXPORT double distance_4_points(FourPoints p) {
    double d = distance(p.points[0], p.points[3]);
    for (int i = 1; i < 4; i++) d += distance(p.points[i], p.points[i - 1]);
    return d;
}

// perimeter of the closed polygon through the n points
EXPORT double distance_n_points(NPoints p) {
    if (p.n < 2) return 0.0;
    double d = distance(p.points[0], p.points[p.n - 1]);
    for (int i = 1; i < p.n; i++) d += distance(p.points[i], p.points[i - 1]);
    return d;
}

// A callback from the library: called with the steps done so far and their total.
// A non-zero result asks the library to stop early.
typedef int (*progress_callback)(int done, int total);

// runs a job of n steps, reporting progress after each; returns the steps done
EXPORT int run_with_progress(int n, progress_callback progress) {
    for (int done = 1; done <= n; done++) {
        if (progress(done, n) != 0) return done;
    }
    return n;
}

// A callback from the library with a block of data: block number `index`, n samples.
// A non-zero result asks the library to stop.
typedef int (*block_callback)(int index, const double *samples, int n);

// acquires `blocks` blocks of n samples (sample i of block b is b + i / n), handing each
// to on_block in a buffer of its own that it reuses; returns the blocks done
EXPORT int acquire(int blocks, int n, block_callback on_block) {
    std::vector<double> samples(n);
    for (int b = 0; b < blocks; b++) {
        for (int i = 0; i < n; i++) samples[i] = b + static_cast<double>(i) / n;
        if (on_block(b, samples.data(), n) != 0) return b + 1;
    }
    return blocks;
}
