/* bbmono.c -- GC-safe helpers over Mono's embedding API for bitbridge.dotnet (ctypes).
 *
 * SGen is a *moving* collector that finds object references by scanning the stacks and
 * registers of attached threads. A MonoObject* handed to Python ends up in a Python int on
 * the heap, where the collector cannot see it: a collection started by another thread (or
 * by Mono's finalizer thread) in between can move or free the object. So no function used
 * from Python returns a MonoObject*: each object is wrapped in a GC handle here, while its
 * address only lives in C locals. Handles returned as "pinned" keep the object at a fixed
 * address, so Python may read its data through mono_gchandle_get_target until it frees them.
 *
 * Built (32-bit) by `bitbridge mono32 install`: gcc -m32 -O2 -shared -fPIC -o libbbmono.so bbmono.c
 * The mono_* symbols resolve at load time against libmonosgen-2.0.so.1, which bitbridge.dotnet
 * loads first with RTLD_GLOBAL.
 */
#include <stdint.h>
#include <stddef.h>

typedef struct _MonoObject MonoObject;
typedef struct _MonoDomain MonoDomain;
typedef struct _MonoClass MonoClass;
typedef struct _MonoMethod MonoMethod;

extern MonoObject *mono_runtime_invoke(MonoMethod *method, void *obj, void **params, MonoObject **exc);
extern uint32_t mono_gchandle_new(MonoObject *obj, int pinned);
extern MonoObject *mono_gchandle_get_target(uint32_t handle);
extern MonoObject *mono_string_new_utf16(MonoDomain *domain, const uint16_t *text, int32_t len);
extern MonoObject *mono_array_new_full(MonoDomain *domain, MonoClass *array_class,
                                       uintptr_t *lengths, intptr_t *lower_bounds);
extern MonoObject *mono_value_box(MonoDomain *domain, MonoClass *klass, void *val);
extern MonoObject *mono_object_new(MonoDomain *domain, MonoClass *klass);
extern void *mono_object_unbox(MonoObject *obj);

/* Invoke `method` on the target of `this_handle` (0: a static method). Reference-type
 * arguments in `params` must be targets of pinned handles. Returns a pinned handle to the
 * result (0: void or null) and stores a pinned handle to a thrown exception (or 0). */
uint32_t bb_invoke(MonoMethod *method, uint32_t this_handle, void **params, uint32_t *exc_handle)
{
    MonoObject *exc = NULL;
    void *self = this_handle ? mono_gchandle_get_target(this_handle) : NULL;
    MonoObject *res = mono_runtime_invoke(method, self, params, &exc);
    *exc_handle = exc ? mono_gchandle_new(exc, 1) : 0;
    return res ? mono_gchandle_new(res, 1) : 0;
}

/* A new System.String from UTF-16 code units: a pinned handle. */
uint32_t bb_string(MonoDomain *domain, const uint16_t *text, int32_t len)
{
    return mono_gchandle_new(mono_string_new_utf16(domain, text, len), 1);
}

/* A new (possibly multi-dimensional) zero-filled array: a pinned handle. */
uint32_t bb_array(MonoDomain *domain, MonoClass *array_class, uintptr_t *lengths)
{
    return mono_gchandle_new(mono_array_new_full(domain, array_class, lengths, NULL), 1);
}

/* A boxed value type: a pinned handle. */
uint32_t bb_box(MonoDomain *domain, MonoClass *klass, void *value)
{
    return mono_gchandle_new(mono_value_box(domain, klass, value), 1);
}

/* A new, not yet constructed object: a normal (movable) handle. */
uint32_t bb_new(MonoDomain *domain, MonoClass *klass)
{
    return mono_gchandle_new(mono_object_new(domain, klass), 0);
}

/* A normal (movable) handle to the target of another handle, e.g. to keep a result. */
uint32_t bb_keep(uint32_t handle)
{
    return mono_gchandle_new(mono_gchandle_get_target(handle), 0);
}

/* array.GetLength(dim) through the System.Array method passed in; -1 on exception. */
int32_t bb_array_length(MonoMethod *get_length, uint32_t array_handle, int32_t dim)
{
    MonoObject *exc = NULL;
    void *args[1] = { &dim };
    MonoObject *res = mono_runtime_invoke(get_length, mono_gchandle_get_target(array_handle), args, &exc);
    if (exc || !res)
        return -1;
    return *(int32_t *)mono_object_unbox(res);
}

/* A pinned handle to the target of a (movable) handle: pin an object for a call or a read. */
uint32_t bb_pin(uint32_t handle)
{
    return mono_gchandle_new(mono_gchandle_get_target(handle), 1);
}

extern char *mono_array_addr_with_size(MonoObject *array, int size, uintptr_t idx);

/* A pinned handle to element `index` of an array of references (0 for null). */
uint32_t bb_array_element(uint32_t array_handle, uintptr_t index)
{
    MonoObject *item = *(MonoObject **)mono_array_addr_with_size(
        mono_gchandle_get_target(array_handle), sizeof(MonoObject *), index);
    return item ? mono_gchandle_new(item, 1) : 0;
}
