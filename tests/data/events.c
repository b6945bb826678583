/* A "driver" that fires events from a thread of its own, as acquisition libraries do:
 * start_events() registers a handler and returns at once; the thread then calls the
 * handler `count` times, every `period_us` microseconds, with a sequence number and the
 * time it fired (CLOCK_MONOTONIC, seconds: the clock of Python's time.monotonic). Built by tests/test_events.py with gcc -m32 -shared -fPIC -pthread. */
#include <pthread.h>
#include <time.h>

typedef void (*event_handler)(int sequence, double fired);

static event_handler handler;
static pthread_t thread;
static int count, period_us, running;

static void pause_us(int microseconds) {
    struct timespec delay = {microseconds / 1000000, (microseconds % 1000000) * 1000L};
    nanosleep(&delay, 0);
}

static void *fire(void *unused) {
    (void)unused;
    for (int i = 0; i < count; i++) {
        struct timespec now;
        if (period_us) pause_us(period_us);
        clock_gettime(CLOCK_MONOTONIC, &now);
        handler(i, now.tv_sec + now.tv_nsec * 1e-9);
    }
    return 0;
}

/* Start firing; 0 when the thread started. */
int start_events(event_handler h, int n, int period) {
    if (running) return -1;
    handler = h;
    count = n;
    period_us = period;
    running = 1;
    return pthread_create(&thread, 0, fire, 0);
}

/* Wait until every event has been fired. */
int wait_events(void) {
    if (!running) return -1;
    running = 0;
    return pthread_join(thread, 0);
}

/* A long call: returns after `ms` milliseconds (events keep firing meanwhile). */
int busy(int ms) {
    pause_us(ms * 1000);
    return ms;
}
