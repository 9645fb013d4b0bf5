/* The fast path of a traced threading.Lock, in C (optional: instrument.py has the same
 * in Python, used when this was not compiled).
 *
 * FastLock is a real lock that keeps its holder's thread ident and a count of its
 * holds; an uncontended acquire and release run no Python code. Everything else
 * (waiting, publishing a hold) is the Python subclass's: acquire calls its
 * _contended(timeout) when the lock is taken, release its _end_published() when the
 * hold being ended was published (its _marks list is not empty). The order of the
 * writes is the protocol locks._publish relies on: the owner is written after
 * the lock is taken and cleared before the marks are looked at, then the lock let go.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pythread.h>
#include <time.h>

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;
    char locked;
    unsigned long owner;
    Py_ssize_t holds;
    Py_ssize_t sampled;
    Py_ssize_t index;
    PyObject *marks;
    PyObject *weakrefs;
} FastLock;

static PyObject *str_contended, *str_end_published;

static double monotonic_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Take the lock, waiting up to timeout seconds (< 0: for ever) with the GIL let go;
 * signal handlers run while waiting, as CPython's own lock runs them.
 * 1: taken, 0: timed out, -1: an exception (from a signal handler). */
static int wait_lock(FastLock *self, double timeout) {
    PyLockStatus r = PyThread_acquire_lock_timed(self->lock, 0, 0);
    if (r == PY_LOCK_ACQUIRED) {
        self->locked = 1;
        return 1;
    }
    if (timeout == 0) {
        return 0;
    }
    double deadline = timeout > 0 ? monotonic_s() + timeout : 0;
    for (;;) {
        PY_TIMEOUT_T us = -1;
        if (timeout > 0) {
            double left = deadline - monotonic_s();
            if (left < 0) {
                left = 0;
            }
            double max_s = (double)PY_TIMEOUT_MAX / 1e6;
            us = (PY_TIMEOUT_T)((left > max_s ? max_s : left) * 1e6);
        }
        Py_BEGIN_ALLOW_THREADS
        r = PyThread_acquire_lock_timed(self->lock, us, 1);
        Py_END_ALLOW_THREADS
        if (r != PY_LOCK_INTR) {
            break;
        }
        if (Py_MakePendingCalls() < 0) {
            return -1;
        }
        if (timeout > 0 && monotonic_s() >= deadline) {
            return 0;
        }
    }
    if (r == PY_LOCK_ACQUIRED) {
        self->locked = 1;
        return 1;
    }
    return 0;
}

static int try_lock(FastLock *self) {
    if (PyThread_acquire_lock_timed(self->lock, 0, 0) == PY_LOCK_ACQUIRED) {
        self->locked = 1;
        return 1;
    }
    return 0;
}

static PyObject *FastLock_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    FastLock *self = (FastLock *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->lock = PyThread_allocate_lock();
    self->marks = PyList_New(0);
    if (self->lock == NULL || self->marks == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    self->index = -1;
    return (PyObject *)self;
}

static int FastLock_init(FastLock *self, PyObject *args, PyObject *kwds) {
    Py_ssize_t index = -1;
    static char *names[] = {"index", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:FastLock", names, &index)) {
        return -1;
    }
    self->index = index;
    return 0;
}

static void FastLock_dealloc(FastLock *self) {
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    if (self->lock != NULL) {
        if (self->locked) {
            PyThread_release_lock(self->lock);
        }
        PyThread_free_lock(self->lock);
    }
    Py_CLEAR(self->marks);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int FastLock_traverse(FastLock *self, visitproc visit, void *arg) {
    Py_VISIT(self->marks); /* a heap subtype's type is visited by CPython's subtype_traverse */
    return 0;
}

static int FastLock_clear(FastLock *self) {
    Py_CLEAR(self->marks);
    return 0;
}

static PyObject *taken(FastLock *self) {
    self->holds++;
    self->owner = PyThread_get_thread_ident();
    Py_RETURN_TRUE;
}

/* acquire(blocking=True, timeout=-1), as threading.Lock's */
static PyObject *FastLock_acquire(FastLock *self, PyObject *const *args, Py_ssize_t nargs,
                                  PyObject *kwnames) {
    if (nargs == 0 && kwnames == NULL) {
        if (try_lock(self)) {
            return taken(self);
        }
        PyObject *minus_one = PyFloat_FromDouble(-1);
        if (minus_one == NULL) {
            return NULL;
        }
        PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, str_contended, minus_one);
        Py_DECREF(minus_one);
        return r;
    }
    PyObject *blocking_obj = nargs > 0 ? args[0] : NULL;
    PyObject *timeout_obj = nargs > 1 ? args[1] : NULL;
    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "acquire() takes at most 2 arguments");
        return NULL;
    }
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        PyObject *value = args[nargs + i];
        if (PyUnicode_CompareWithASCIIString(name, "blocking") == 0 && blocking_obj == NULL) {
            blocking_obj = value;
        } else if (PyUnicode_CompareWithASCIIString(name, "timeout") == 0 &&
                   timeout_obj == NULL) {
            timeout_obj = value;
        } else {
            PyErr_Format(PyExc_TypeError, "acquire() got an unexpected keyword argument '%U'",
                         name);
            return NULL;
        }
    }
    int blocking = 1;
    if (blocking_obj != NULL) {
        blocking = PyObject_IsTrue(blocking_obj);
        if (blocking < 0) {
            return NULL;
        }
    }
    double timeout = -1;
    if (timeout_obj != NULL) {
        timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (!blocking && timeout != -1) {
        PyErr_SetString(PyExc_ValueError, "can't specify a timeout for a non-blocking call");
        return NULL;
    }
    if (timeout < 0 && timeout != -1) {
        PyErr_SetString(PyExc_ValueError, "timeout value must be positive");
        return NULL;
    }
    if (try_lock(self)) {
        return taken(self);
    }
    if (!blocking) {
        Py_RETURN_FALSE;
    }
    PyObject *t = PyFloat_FromDouble(timeout);
    if (t == NULL) {
        return NULL;
    }
    PyObject *r = PyObject_CallMethodOneArg((PyObject *)self, str_contended, t);
    Py_DECREF(t);
    return r;
}

static PyObject *FastLock_enter(FastLock *self, PyObject *unused) {
    return FastLock_acquire(self, NULL, 0, NULL);
}

static PyObject *FastLock_release(FastLock *self, PyObject *unused) {
    if (!self->locked) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    self->owner = 0; /* before the marks are looked at: see locks._publish */
    if (PyList_GET_SIZE(self->marks) > 0) {
        PyObject *r = PyObject_CallMethodNoArgs((PyObject *)self, str_end_published);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
    }
    self->locked = 0;
    PyThread_release_lock(self->lock);
    Py_RETURN_NONE;
}

static PyObject *FastLock_exit(FastLock *self, PyObject *const *args, Py_ssize_t nargs) {
    return FastLock_release(self, NULL);
}

/* _wait(timeout): take the lock, waiting (no bookkeeping: the caller's) */
static PyObject *FastLock_wait(FastLock *self, PyObject *arg) {
    double timeout = PyFloat_AsDouble(arg);
    if (timeout == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int r = wait_lock(self, timeout);
    if (r < 0) {
        return NULL;
    }
    return PyBool_FromLong(r);
}

/* _try(False): take the lock if it is free (no bookkeeping); the argument is
 * threading.Lock.acquire's, as the Python fast path calls it */
static PyObject *FastLock_try(FastLock *self, PyObject *const *args, Py_ssize_t nargs) {
    return PyBool_FromLong(try_lock(self));
}

static PyObject *FastLock_give(FastLock *self, PyObject *unused) {
    if (!self->locked) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    self->locked = 0;
    PyThread_release_lock(self->lock);
    Py_RETURN_NONE;
}

static PyObject *FastLock_locked(FastLock *self, PyObject *unused) {
    return PyBool_FromLong(self->locked);
}

static PyObject *FastLock_at_fork_reinit(FastLock *self, PyObject *unused) {
    /* the child has one thread: a lock held by another one is gone with it */
    PyThread_type_lock fresh = PyThread_allocate_lock();
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    self->lock = fresh; /* the old one may be held: leaked, as CPython's own reinit does */
    self->locked = 0;
    self->owner = 0;
    if (PyList_SetSlice(self->marks, 0, PY_SSIZE_T_MAX, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef FastLock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))FastLock_acquire, METH_FASTCALL | METH_KEYWORDS,
     "acquire(blocking=True, timeout=-1): as threading.Lock's"},
    {"__enter__", (PyCFunction)FastLock_enter, METH_NOARGS, NULL},
    {"release", (PyCFunction)FastLock_release, METH_NOARGS, "release(): as threading.Lock's"},
    {"__exit__", (PyCFunction)(void (*)(void))FastLock_exit, METH_FASTCALL, NULL},
    {"locked", (PyCFunction)FastLock_locked, METH_NOARGS, NULL},
    {"_try", (PyCFunction)(void (*)(void))FastLock_try, METH_FASTCALL,
     "_try(False): take the lock if free (no bookkeeping)"},
    {"_wait", (PyCFunction)FastLock_wait, METH_O, "take the lock, waiting (no bookkeeping)"},
    {"_give", (PyCFunction)FastLock_give, METH_NOARGS, "let go (no bookkeeping)"},
    {"_at_fork_reinit", (PyCFunction)FastLock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef FastLock_members[] = {
    {"_owner", T_ULONG, offsetof(FastLock, owner), 0, "the holder's thread ident, or 0"},
    {"_holds", T_PYSSIZET, offsetof(FastLock, holds), 0, "holds taken so far"},
    {"_sampled", T_PYSSIZET, offsetof(FastLock, sampled), 0, "_holds when last sampled"},
    {"_index", T_PYSSIZET, offsetof(FastLock, index), READONLY, "the resource's index"},
    {"_marks", T_OBJECT, offsetof(FastLock, marks), READONLY, "the published hold, if any"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FastLockType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tui_conc.tracing._fastlock.FastLock",
    .tp_basicsize = sizeof(FastLock),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A lock that keeps its holder and counts its holds (the traced Lock's base).",
    .tp_new = FastLock_new,
    .tp_init = (initproc)FastLock_init,
    .tp_dealloc = (destructor)FastLock_dealloc,
    .tp_traverse = (traverseproc)FastLock_traverse,
    .tp_clear = (inquiry)FastLock_clear,
    .tp_weaklistoffset = offsetof(FastLock, weakrefs),
    .tp_methods = FastLock_methods,
    .tp_members = FastLock_members,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastlock", "The traced Lock's fast path.", -1, NULL,
};

PyMODINIT_FUNC PyInit__fastlock(void) {
    str_contended = PyUnicode_InternFromString("_contended");
    str_end_published = PyUnicode_InternFromString("_end_published");
    if (str_contended == NULL || str_end_published == NULL) {
        return NULL;
    }
    if (PyType_Ready(&FastLockType) < 0) {
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) {
        return NULL;
    }
    Py_INCREF(&FastLockType);
    if (PyModule_AddObject(m, "FastLock", (PyObject *)&FastLockType) < 0) {
        Py_DECREF(&FastLockType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
