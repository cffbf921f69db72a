/*
 * libconta.so: the C ABI of conta.h over the Java API (conta.api.NativeBridge) through the JNI invocation API.
 * One JVM per process, created on the first conta_open; each calling thread attaches once (as a daemon, detached when
 * the thread exits); every call runs inside a JNI local frame, so a long-lived thread does not accumulate references.
 */
#include <jni.h>
#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conta.h"
#include "spin.h"

#ifndef CONTA_BUILD_JAVA_HOME
#define CONTA_BUILD_JAVA_HOME ""
#endif
#ifndef CONTA_BUILD_CLASSPATH
#define CONTA_BUILD_CLASSPATH ""
#endif

/* A conta_model pointer is the bridge's handle itself (1, 2, ...; never reused), not memory: nothing is freed at close,
 * so a handle used after conta_close, or closed twice, is an unknown handle to the bridge (CONTA_ERR_ARGUMENT), never
 * a read of freed memory. */
struct conta_model;
static jlong handle_of(const conta_model *m) { return (jlong) (uintptr_t) m; }

static JavaVM *vm;
static jclass bridge;
static jmethodID m_text, m_utf8, m_open, m_segment, m_cams, m_scores, m_classes, m_class_name, m_close, m_last_error, m_read_image, m_take_image, m_write_labels;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_status = -1; /* -1: not tried (or failed before a JVM was made: retried); else CONTA_OK or the sticky failure */
static int create_tried;      /* JNI_CreateJavaVM was called: a JVM cannot be made twice in a process, so a failure then sticks */
static char init_error[2048];
static pthread_key_t detach_key;
static __thread char err_buf[2048];

static int fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
    va_end(ap);
    return code;
}

const char *conta_last_error(void) { return err_buf; }

#ifndef CONTA_BUILD_VERSION
#define CONTA_BUILD_VERSION "dev"
#endif
const char *conta_version(void) { return CONTA_BUILD_VERSION; }

static void detach_at_exit(void *unused) {
    (void) unused;
    if (vm) (*vm)->DetachCurrentThread(vm);
}

/* Appends s to the growing string *buf. */
static int append(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t c = (*cap + n + 1) * 2;
        char *b = realloc(*buf, c);
        if (!b) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

/* The class path with DIR/ * entries expanded to the jars in DIR (the JVM only expands them in the launcher). */
static char *class_path(const char *spec) {
    size_t len = 0, cap = 256;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = 0;
    char *copy = strdup(spec), *save = NULL;
    for (char *e = strtok_r(copy, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(e);
        if (n >= 2 && strcmp(e + n - 2, "/*") == 0) {
            e[n - 2] = 0;
            DIR *d = opendir(e);
            if (!d) continue;
            struct dirent *de;
            while ((de = readdir(d))) {
                size_t m = strlen(de->d_name);
                if (m < 5 || strcmp(de->d_name + m - 4, ".jar") != 0) continue;
                if (len) append(&out, &len, &cap, ":");
                append(&out, &len, &cap, e);
                append(&out, &len, &cap, "/");
                append(&out, &len, &cap, de->d_name);
            }
            closedir(d);
        } else {
            if (len) append(&out, &len, &cap, ":");
            append(&out, &len, &cap, e);
        }
    }
    free(copy);
    return out;
}

typedef jint (*create_vm_fn)(JavaVM **, void **, void *);
typedef jint (*created_vms_fn)(JavaVM **, jsize, jsize *);

static void *open_libjvm(void) {
    const char *homes[] = {getenv("CONTA_JAVA_HOME"), getenv("JAVA_HOME"), CONTA_BUILD_JAVA_HOME};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof homes / sizeof homes[0]; i++) {
        if (!homes[i] || !homes[i][0]) continue;
        snprintf(path, sizeof path, "%s/lib/server/libjvm.so", homes[i]);
        void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
        if (h) return h;
    }
    return NULL;
}

/* The JVM announces "WARNING: Using incubator modules: jdk.incubator.vector" on stderr while it boots (the Vector API
 * is an incubator module in JDK 25). A library must not write into its host's stderr, so fd 2 points at a temporary
 * file while JNI_CreateJavaVM runs, and what the JVM wrote there, less that one line, is copied back afterwards: its
 * reasons for a failed start (a bad CONTA_JVM_OPTS) still reach the host. What the host's other threads write to
 * stderr in those ~100 ms arrives late, not lost. Without a temporary file nothing is filtered. */
typedef struct { FILE *tmp; int saved; } quiet_boot;

static quiet_boot quiet_begin(void) {
    quiet_boot q = {NULL, -1};
    fflush(stderr);
    q.tmp = tmpfile();
    if (!q.tmp) return q;
    q.saved = dup(2);
    if (q.saved < 0 || dup2(fileno(q.tmp), 2) < 0) {
        if (q.saved >= 0) close(q.saved);
        fclose(q.tmp);
        q.tmp = NULL;
        q.saved = -1;
    }
    return q;
}

static void quiet_end(quiet_boot *q) {
    if (!q->tmp) return;
    FILE *tmp = q->tmp;
    q->tmp = NULL; /* once: the JVM's exit or abort hook may come first */
    fflush(stderr);
    dup2(q->saved, 2);
    close(q->saved);
    rewind(tmp);
    char line[4096];
    while (fgets(line, sizeof line, tmp))
        if (strncmp(line, "WARNING: Using incubator modules", 32) != 0) fputs(line, stderr);
    fflush(stderr);
    fclose(tmp);
}

/* A JVM that gives up during its boot exits or aborts the process from inside JNI_CreateJavaVM: its hooks copy what
 * it wrote back first (e.g. "Could not reserve enough space" for a -Xmx in CONTA_JVM_OPTS). After the boot they find
 * nothing to do. */
static quiet_boot boot_quiet = {NULL, -1};
static void JNICALL quiet_on_exit(jint code) { (void) code; quiet_end(&boot_quiet); }
static void JNICALL quiet_on_abort(void) { quiet_end(&boot_quiet); }

/* Class.forName(dotted, true, the system class loader): a class of the application class path, initialised; NULL
 * with the exception cleared. */
static jclass system_class(JNIEnv *env, const char *dotted) {
    jclass loader = (*env)->FindClass(env, "java/lang/ClassLoader"), klass = loader ? (*env)->FindClass(env, "java/lang/Class") : NULL;
    jmethodID get = klass ? (*env)->GetStaticMethodID(env, loader, "getSystemClassLoader", "()Ljava/lang/ClassLoader;") : NULL;
    jmethodID for_name = get ? (*env)->GetStaticMethodID(env, klass, "forName", "(Ljava/lang/String;ZLjava/lang/ClassLoader;)Ljava/lang/Class;") : NULL;
    jobject sys = for_name ? (*env)->CallStaticObjectMethod(env, loader, get) : NULL;
    jobject c = sys && !(*env)->ExceptionCheck(env)
            ? (*env)->CallStaticObjectMethod(env, klass, for_name, (*env)->NewStringUTF(env, dotted), JNI_TRUE, sys) : NULL;
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        return NULL;
    }
    return (jclass) c;
}

static struct sigaction chld_at_start; /* the host's SIGCHLD handler when the JVM starts */
static int chld_saved;

static int start_vm(void) {
    chld_saved = sigaction(SIGCHLD, NULL, &chld_at_start) == 0;
    /* as the ./conta launcher's inference commands: oneDNN's OpenMP threads spin ~100 us (longer than the gaps between
     * two primitives; the rounds measured on this CPU, spin.h) and then sleep. libgomp's default spin (300000 rounds)
     * slowed a 64x64 call from 14 ms to 1.9 s on a loaded 2-core machine; the short one gains 6-9% on a quiet one and
     * is no worse than sleeping at once under load (bench/RESULTS-latency.md, sessions 12 and 28). Set before libgomp
     * loads; the host's own OpenMP settings win. */
    int gomp_first = 0; /* the host loaded libgomp before conta, with no wait setting of its own (said below) */
    if (!getenv("GOMP_SPINCOUNT") && !getenv("OMP_WAIT_POLICY")) {
        void *gomp = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
        if (gomp) {
            gomp_first = 1;
            dlclose(gomp);
        }
        char rounds[24];
        snprintf(rounds, sizeof rounds, "%lu", conta_spin_rounds(CONTA_SPIN_US));
        setenv("GOMP_SPINCOUNT", rounds, 0);
    }
    void *lib = open_libjvm();
    if (!lib) {
        snprintf(init_error, sizeof init_error, "cannot load libjvm.so from CONTA_JAVA_HOME, JAVA_HOME or %s (a JDK >= 25 is needed)",
                 CONTA_BUILD_JAVA_HOME);
        return CONTA_ERR_JVM;
    }
    created_vms_fn created = (created_vms_fn) dlsym(lib, "JNI_GetCreatedJavaVMs");
    create_vm_fn create = (create_vm_fn) dlsym(lib, "JNI_CreateJavaVM");
    if (!created || !create) {
        snprintf(init_error, sizeof init_error, "libjvm.so lacks the JNI invocation API");
        return CONTA_ERR_JVM;
    }
    JavaVM *existing = NULL;
    jsize n = 0;
    JNIEnv *env = NULL;
    if (created(&existing, 1, &n) == JNI_OK && n > 0) { /* a host that already runs a JVM: share it */
        vm = existing;
    } else {
        /* A host that runs OpenMP itself has read its settings: libgomp's default 300000-round spin then stays in force
         * for the threads conta's kernels share with it, and calls ran ~30x slower (a 64x64 call 157 ms against 5 ms;
         * docs/api.md). Only the host can set it in time: say so, once. (Not in a JVM that runs already: there conta's
         * own oneDNN may have loaded libgomp.) */
        if (gomp_first)
            fprintf(stderr, "conta: this process loaded OpenMP (libgomp) before conta: set GOMP_SPINCOUNT=%s (or OMP_WAIT_POLICY) "
                            "in its environment before it starts, or conta's calls run many times slower (docs/api.md)\n",
                    getenv("GOMP_SPINCOUNT"));
        const char *cp_spec = getenv("CONTA_CLASSPATH");
        if (!cp_spec || !cp_spec[0]) cp_spec = CONTA_BUILD_CLASSPATH;
        char *cp = class_path(cp_spec);
        if (!cp || !cp[0]) {
            snprintf(init_error, sizeof init_error, "no class path: set CONTA_CLASSPATH to conta-engine.jar and its lib/ jars");
            free(cp);
            return CONTA_ERR_JVM;
        }
        size_t cplen = strlen(cp) + 32;
        char *cpopt = malloc(cplen);
        snprintf(cpopt, cplen, "-Djava.class.path=%s", cp);
        free(cp);
        JavaVMOption opts[64];
        int k = 0;
        opts[k++].optionString = cpopt;
        opts[k++].optionString = "--enable-native-access=ALL-UNNAMED";
        opts[k++].optionString = "--add-modules=jdk.incubator.vector";
        opts[k++].optionString = "-Xrs"; /* leave SIGINT/SIGTERM/SIGQUIT to the host */
        opts[k++].optionString = "-Djava.awt.headless=true";
        /* JavaCPP refuses native allocations once the whole process's resident memory passes twice -Xmx, the host's
         * own memory included: a host with 600 MB of its own and -Xmx128m failed every call. A CONTA_JVM_OPTS value wins. */
        opts[k++].optionString = "-Dorg.bytedeco.javacpp.maxPhysicalBytes=0";
        opts[k].optionString = "exit";
        opts[k++].extraInfo = (void *) quiet_on_exit;
        opts[k].optionString = "abort";
        opts[k++].extraInfo = (void *) quiet_on_abort;
        char *extra = getenv("CONTA_JVM_OPTS") ? strdup(getenv("CONTA_JVM_OPTS")) : NULL, *save = NULL;
        for (char *t = extra ? strtok_r(extra, " ", &save) : NULL; t && k < 64; t = strtok_r(NULL, " ", &save)) opts[k++].optionString = t;
        JavaVMInitArgs args;
        args.version = JNI_VERSION_10;
        args.nOptions = k;
        args.options = opts;
        args.ignoreUnrecognized = JNI_FALSE;
        boot_quiet = quiet_begin();
        create_tried = 1;
        jint r = create(&vm, (void **) &env, &args);
        quiet_end(&boot_quiet);
        free(cpopt); /* the JVM copies its options */
        int had_extra = extra != NULL;
        free(extra);
        if (r != JNI_OK) {
            vm = NULL;
            snprintf(init_error, sizeof init_error, "JNI_CreateJavaVM failed (%d)%s", (int) r,
                     had_extra ? "; check CONTA_JVM_OPTS (the JVM printed its reason on stderr)" : "");
            return CONTA_ERR_JVM;
        }
    }
    pthread_key_create(&detach_key, detach_at_exit);
    if ((*vm)->GetEnv(vm, (void **) &env, JNI_VERSION_10) != JNI_OK &&
        (*vm)->AttachCurrentThreadAsDaemon(vm, (void **) &env, NULL) != JNI_OK) {
        snprintf(init_error, sizeof init_error, "cannot attach to the JVM");
        return CONTA_ERR_JVM;
    }
    pthread_setspecific(detach_key, (void *) 1);
    jclass c = (*env)->FindClass(env, "conta/api/NativeBridge");
    if (!c) { /* called from a JVM that runs already (e.g. through the FFM API): FindClass may search the boot loader only */
        (*env)->ExceptionClear(env);
        c = system_class(env, "conta.api.NativeBridge");
    }
    if (!c) {
        (*env)->ExceptionClear(env);
        snprintf(init_error, sizeof init_error, "class conta.api.NativeBridge not found on the class path (CONTA_CLASSPATH or %s)",
                 CONTA_BUILD_CLASSPATH);
        return CONTA_ERR_JVM;
    }
    bridge = (*env)->NewGlobalRef(env, c);
    struct { jmethodID *id; const char *name, *sig; } ms[] = {
        {&m_text, "text", "([B)Ljava/lang/String;"},
        {&m_utf8, "utf8", "(Ljava/lang/String;)[B"},
        {&m_open, "open", "(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)J"},
        {&m_segment, "segment", "(JLjava/nio/ByteBuffer;IILjava/nio/ByteBuffer;)I"},
        {&m_cams, "cams", "(JLjava/nio/ByteBuffer;IILjava/nio/ByteBuffer;)I"},
        {&m_scores, "classScores", "(JLjava/nio/ByteBuffer;IILjava/nio/ByteBuffer;)I"},
        {&m_classes, "classes", "(JZ)I"},
        {&m_class_name, "className", "(JI)Ljava/lang/String;"},
        {&m_close, "close", "(J)I"},
        {&m_last_error, "lastError", "()Ljava/lang/String;"},
        {&m_read_image, "readImage", "(Ljava/lang/String;)[I"},
        {&m_take_image, "takeImage", "(Ljava/nio/ByteBuffer;)I"},
        {&m_write_labels, "writeLabels", "(Ljava/lang/String;Ljava/nio/ByteBuffer;II)I"},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        *ms[i].id = (*env)->GetStaticMethodID(env, bridge, ms[i].name, ms[i].sig);
        if (!*ms[i].id) {
            (*env)->ExceptionClear(env);
            snprintf(init_error, sizeof init_error, "conta.api.NativeBridge.%s%s missing: libconta.so and the jar are from different builds",
                     ms[i].name, ms[i].sig);
            return CONTA_ERR_JVM;
        }
    }
    /* The JDK's process support sets SIGCHLD to its default when it first initialises (JavaCPP's loader, reading the
     * environment, used to do that inside the first conta_open): a host that reaps its children through its own
     * handler would stop hearing of them. It is initialised here, under the start-up lock and before any call, and the
     * handler of the start is put back (conta starts no processes through it). */
    system_class(env, "java.lang.ProcessImpl");
    if (chld_saved) sigaction(SIGCHLD, &chld_at_start, NULL);
    return CONTA_OK;
}

/* The calling thread's JNIEnv, starting the JVM on first use and attaching the thread once; NULL with the error set. */
static JNIEnv *env_or_fail(int *code) {
    pthread_mutex_lock(&init_lock);
    int st = init_status;
    if (st < 0) { /* a failure before any JVM existed (no libjvm.so, no class path) is retried: the host may fix its environment */
        st = start_vm();
        if (st == CONTA_OK || create_tried || vm) init_status = st;
    }
    if (st != CONTA_OK) fail(st, "%s", init_error); /* under the lock: a retry on another thread rewrites init_error */
    pthread_mutex_unlock(&init_lock);
    if (st != CONTA_OK) {
        *code = st;
        return NULL;
    }
    JNIEnv *env = NULL;
    jint r = (*vm)->GetEnv(vm, (void **) &env, JNI_VERSION_10);
    if (r == JNI_EDETACHED) {
        JavaVMAttachArgs a = {JNI_VERSION_10, "conta-caller", NULL};
        if ((*vm)->AttachCurrentThreadAsDaemon(vm, (void **) &env, &a) != JNI_OK) {
            *code = fail(CONTA_ERR_JVM, "cannot attach this thread to the JVM");
            return NULL;
        }
        pthread_setspecific(detach_key, (void *) 1);
    } else if (r != JNI_OK) {
        *code = fail(CONTA_ERR_JVM, "JNI GetEnv failed (%d)", (int) r);
        return NULL;
    }
    if ((*env)->PushLocalFrame(env, 16) != 0) {
        (*env)->ExceptionClear(env);
        *code = fail(CONTA_ERR_INTERNAL, "out of memory (JNI local frame)");
        return NULL;
    }
    return env;
}

/* A Java string into buf as UTF-8, NUL-terminated and cut at a character boundary to fit buf_len (>= 1); "" when it
 * cannot be had. GetStringUTFChars gives modified UTF-8, in which a 4-byte character (an emoji in a class name or a
 * path in a message) is two 3-byte surrogates that no UTF-8 reader accepts. */
static void copy_utf8(JNIEnv *env, jstring s, char *buf, size_t buf_len) {
    buf[0] = 0;
    jbyteArray b = (jbyteArray) (*env)->CallStaticObjectMethod(env, bridge, m_utf8, s);
    if ((*env)->ExceptionCheck(env) || !b) {
        (*env)->ExceptionClear(env);
        return;
    }
    jsize n = (*env)->GetArrayLength(env, b);
    size_t k = (size_t) n < buf_len - 1 ? (size_t) n : buf_len - 1;
    (*env)->GetByteArrayRegion(env, b, 0, (jsize) k, (jbyte *) buf);
    if (k < (size_t) n) { /* cut: drop the character the cut falls inside (its lead byte is the last non-continuation byte) */
        jbyte next;
        (*env)->GetByteArrayRegion(env, b, (jsize) k, 1, &next);
        if ((next & 0xC0) == 0x80)
            while (k > 0 && (buf[--k] & 0xC0) == 0x80) { }
    }
    buf[k] = 0;
    (*env)->DeleteLocalRef(env, b);
}

/* Ends a call: a Java exception that escaped the bridge (it catches everything, so only e.g. a StackOverflowError
 * inside the catch) becomes an error; a bridge failure copies its message. */
static int finish(JNIEnv *env, int code) {
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionClear(env);
        code = fail(CONTA_ERR_INTERNAL, "a Java exception escaped conta.api.NativeBridge");
    } else if (code != CONTA_OK) {
        jstring s = (jstring) (*env)->CallStaticObjectMethod(env, bridge, m_last_error);
        if ((*env)->ExceptionCheck(env) || !s) {
            (*env)->ExceptionClear(env);
            fail(code, "conta error %d", code);
        } else {
            copy_utf8(env, s, err_buf, sizeof err_buf);
            if (!err_buf[0]) fail(code, "conta error %d", code); /* never an empty message for a failure */
        }
    } else {
        err_buf[0] = 0;
    }
    (*env)->PopLocalFrame(env, NULL);
    return code;
}

/* The host's string (a path: bytes in the locale's encoding) as a Java string. NewStringUTF reads modified UTF-8, in
 * which a 4-byte UTF-8 character (an emoji in a file name) is malformed: "\xf0\x9f\x98\x80.safetensors" became
 * "\u00f0.safetens", a missing file. The bridge decodes the bytes as the JVM encodes file names (sun.jnu.encoding).
 * NULL for NULL, or with a Java exception pending (the caller's finish() reports it). */
static jstring jstr(JNIEnv *env, const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n > INT_MAX) return NULL;
    jbyteArray b = (*env)->NewByteArray(env, (jsize) n);
    if (!b) return NULL;
    (*env)->SetByteArrayRegion(env, b, 0, (jsize) n, (const jbyte *) s);
    return (jstring) (*env)->CallStaticObjectMethod(env, bridge, m_text, b);
}

int conta_open(const char *bundle_path, const char *device, conta_model **model) {
    return conta_open_precision(bundle_path, device, NULL, model);
}

int conta_open_precision(const char *bundle_path, const char *device, const char *precision, conta_model **model) {
    if (!model) return fail(CONTA_ERR_ARGUMENT, "conta_open: model is NULL");
    *model = NULL;
    if (!bundle_path) return fail(CONTA_ERR_ARGUMENT, "conta_open: bundle_path is NULL");
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jstring p = jstr(env, bundle_path), d = jstr(env, device ? device : "cpu"), q = jstr(env, precision ? precision : "fp32");
    if ((*env)->ExceptionCheck(env) || !p || !d || !q) return finish(env, CONTA_ERR_INTERNAL);
    jlong h = (*env)->CallStaticLongMethod(env, bridge, m_open, p, d, q);
    if (!(*env)->ExceptionCheck(env) && h > 0) {
        *model = (conta_model *) (uintptr_t) h;
        return finish(env, CONTA_OK);
    }
    return finish(env, h < 0 ? (int) -h : CONTA_ERR_INTERNAL);
}

/* The image must have a positive size whose RGB8 bytes fit a Java buffer (the bridge checks the model's limits). */
static int check_image(const void *rgb, int width, int height, const void *out) {
    if (!rgb || !out) return fail(CONTA_ERR_ARGUMENT, "image or output buffer is NULL");
    if (width <= 0 || height <= 0) return fail(CONTA_ERR_ARGUMENT, "image size %dx%d: both sides must be positive", width, height);
    if ((long long) width * height * 3 > INT_MAX / 2)
        return fail(CONTA_ERR_IMAGE, "image size %dx%d is too large (at most 8192 px a side)", width, height);
    return CONTA_OK;
}

int conta_segment_rgb8(conta_model *model, const uint8_t *rgb, int width, int height, uint8_t *labels, size_t labels_len) {
    if (!model) return fail(CONTA_ERR_ARGUMENT, "conta_segment_rgb8: model is NULL");
    int code = check_image(rgb, width, height, labels);
    if (code) return code;
    if (labels_len > INT_MAX) return fail(CONTA_ERR_ARGUMENT, "labels_len %zu is too large", labels_len);
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jobject in = (*env)->NewDirectByteBuffer(env, (void *) rgb, (jlong) width * height * 3);
    jobject out = (*env)->NewDirectByteBuffer(env, labels, (jlong) labels_len);
    if (!in || !out) return finish(env, CONTA_ERR_INTERNAL);
    code = (*env)->CallStaticIntMethod(env, bridge, m_segment, handle_of(model), in, width, height, out);
    return finish(env, code);
}

/* A bridge call from an RGB8 image to len floats at out (conta_cams, conta_class_scores). */
static int float_call(jmethodID m, const char *name, conta_model *model, const uint8_t *rgb, int width, int height, float *out, size_t len) {
    if (!model) return fail(CONTA_ERR_ARGUMENT, "%s: model is NULL", name);
    int code = check_image(rgb, width, height, out);
    if (code) return code;
    if (len > INT_MAX / 4) return fail(CONTA_ERR_ARGUMENT, "%s: the output length %zu is too large", name, len);
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jobject in = (*env)->NewDirectByteBuffer(env, (void *) rgb, (jlong) width * height * 3);
    jobject o = (*env)->NewDirectByteBuffer(env, out, (jlong) len * 4);
    if (!in || !o) return finish(env, CONTA_ERR_INTERNAL);
    code = (*env)->CallStaticIntMethod(env, bridge, m, handle_of(model), in, width, height, o);
    return finish(env, code);
}

int conta_cams(conta_model *model, const uint8_t *rgb, int width, int height, float *cams, size_t cams_len) {
    return float_call(m_cams, "conta_cams", model, rgb, width, height, cams, cams_len);
}

int conta_class_scores(conta_model *model, const uint8_t *rgb, int width, int height, float *scores, size_t scores_len) {
    return float_call(m_scores, "conta_class_scores", model, rgb, width, height, scores, scores_len);
}

int conta_num_classes(conta_model *model, int cams, int *n) {
    if (!model || !n) return fail(CONTA_ERR_ARGUMENT, "conta_num_classes: model or n is NULL");
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jint r = (*env)->CallStaticIntMethod(env, bridge, m_classes, handle_of(model), cams ? JNI_TRUE : JNI_FALSE);
    if (r >= 0) *n = r;
    return finish(env, r >= 0 ? CONTA_OK : -r);
}

int conta_class_name(conta_model *model, int k, char *buf, size_t buf_len) {
    if (!model || !buf) return fail(CONTA_ERR_ARGUMENT, "conta_class_name: model or buf is NULL");
    if (buf_len == 0) return fail(CONTA_ERR_ARGUMENT, "conta_class_name: buf_len is 0 (room for at least the terminating NUL is needed)");
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jstring s = (jstring) (*env)->CallStaticObjectMethod(env, bridge, m_class_name, handle_of(model), k);
    if ((*env)->ExceptionCheck(env) || !s) return finish(env, CONTA_ERR_ARGUMENT);
    copy_utf8(env, s, buf, buf_len);
    return finish(env, CONTA_OK);
}

int conta_close(conta_model *model) {
    if (!model) {
        err_buf[0] = 0; /* a success, as every other: no stale message */
        return CONTA_OK;
    }
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    code = (*env)->CallStaticIntMethod(env, bridge, m_close, handle_of(model));
    return finish(env, code);
}

int conta_image_read(const char *path, uint8_t **rgb, int *width, int *height) {
    if (!path || !rgb || !width || !height) return fail(CONTA_ERR_ARGUMENT, "conta_image_read: NULL argument");
    *rgb = NULL;
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jstring p = jstr(env, path);
    if ((*env)->ExceptionCheck(env) || !p) return finish(env, CONTA_ERR_INTERNAL);
    jintArray wh = (jintArray) (*env)->CallStaticObjectMethod(env, bridge, m_read_image, p);
    if ((*env)->ExceptionCheck(env) || !wh) return finish(env, CONTA_ERR_INTERNAL);
    jint d[2];
    if ((*env)->GetArrayLength(env, wh) != 2) { /* {-code}: the bridge's code (NOT_FOUND, IMAGE, or ARGUMENT for a name the JVM cannot make) */
        (*env)->GetIntArrayRegion(env, wh, 0, 1, d);
        return finish(env, d[0] < 0 ? (int) -d[0] : CONTA_ERR_INTERNAL);
    }
    (*env)->GetIntArrayRegion(env, wh, 0, 2, d);
    size_t n = (size_t) d[0] * d[1] * 3;
    uint8_t *px = malloc(n);
    if (!px) {
        (*env)->PopLocalFrame(env, NULL);
        return fail(CONTA_ERR_INTERNAL, "out of memory for a %dx%d image", d[0], d[1]);
    }
    jobject buf = (*env)->NewDirectByteBuffer(env, px, (jlong) n);
    code = buf ? (*env)->CallStaticIntMethod(env, bridge, m_take_image, buf) : CONTA_ERR_INTERNAL;
    if (code != CONTA_OK || (*env)->ExceptionCheck(env)) {
        free(px);
        return finish(env, code ? code : CONTA_ERR_INTERNAL);
    }
    *rgb = px;
    *width = d[0];
    *height = d[1];
    return finish(env, CONTA_OK);
}

int conta_labels_write_png(const char *path, const uint8_t *labels, int width, int height) {
    if (!path || !labels || width <= 0 || height <= 0) return fail(CONTA_ERR_ARGUMENT, "conta_labels_write_png: bad argument");
    int code = 0;
    JNIEnv *env = env_or_fail(&code);
    if (!env) return code;
    jobject buf = (*env)->NewDirectByteBuffer(env, (void *) labels, (jlong) width * height);
    jstring p = buf ? jstr(env, path) : NULL;
    if ((*env)->ExceptionCheck(env)) return finish(env, CONTA_ERR_INTERNAL);
    code = buf && p ? (*env)->CallStaticIntMethod(env, bridge, m_write_labels, p, buf, width, height) : CONTA_ERR_INTERNAL;
    return finish(env, code);
}

void conta_free(void *p) { free(p); }
