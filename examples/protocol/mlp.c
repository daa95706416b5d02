/* An MLP with hand-written backprop, checked by gradcheck over gradcheck-protocol 1.
 *
 *   cc -O2 -o mlp examples/protocol/mlp.c -lm
 *   gradcheck check --cmd "./mlp --bug sign"            # exits 1, names W3 and `sign`
 *   gradcheck check --cmd "./mlp --bug transpose" --layers
 *   gradcheck check --cmd "./mlp"                       # the fixed build: exits 0
 *
 * Net: x (N x D) -> dense1 (W1 D x H, b1) -> tanh -> dense2 (W2 H x H, b2) -> tanh
 *      -> dense3 (W3 H x C, b3); loss = sum((y - t)^2) / (2 N). Flattening is C order.
 * Options: --sizes D,H,C  --batch N  --seed S
 *          --bug sign|scale|transpose|derivative-at-output   (planted bugs)
 *          --bench-loss M  time M loss evaluations in-process, print us/eval, exit
 * The protocol is in docs/protocol.md; numbers are printed with %.17g (round trip).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { NLAYERS = 5 };
static int D = 8, H = 6, C = 3, N = 5;
static const char *bug = "";
static int P;
static double *theta, *X, *T;
static int din[3], dout[3], woff[3], boff[3];
static double *acts[NLAYERS + 1];   /* acts[K] = input of layer K; acts[5] = output */
static double *cache_x;             /* the input of the last `forward K` */
static int cache_layer = -1, cache_n;

static int in_width(int K) { return K % 2 ? H : din[K / 2]; }
static int out_width(int K) { return K % 2 ? H : dout[K / 2]; }
static int nparams(int K) { return K % 2 ? 0 : din[K / 2] * dout[K / 2] + dout[K / 2]; }
static int poff(int K) { return woff[K / 2]; }
static int is(const char *name) { return strcmp(bug, name) == 0; }

static void dense_forward(int k, const double *th, const double *x, int n, double *y) {
    const double *W = th + woff[k], *b = th + boff[k];
    int di = din[k], dn = dout[k];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < dn; j++) {
            double s = b[j];
            for (int l = 0; l < di; l++) s += x[i * di + l] * W[l * dn + j];
            y[i * dn + j] = s;
        }
}

/* dx = gy W^T; dW = x^T gy; db = sum_i gy.  Planted bugs live here and in tanh_backward. */
static void dense_backward(int k, const double *th, const double *x, int n, const double *gy,
                           double *gx, double *gW, double *gb) {
    const double *W = th + woff[k];
    int di = din[k], dn = dout[k];
    for (int i = 0; i < n; i++)
        for (int l = 0; l < di; l++) {
            double s = 0;
            for (int j = 0; j < dn; j++) s += gy[i * dn + j] * W[l * dn + j];
            gx[i * di + l] = s;
        }
    for (int l = 0; l < di; l++)
        for (int j = 0; j < dn; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += x[i * di + l] * gy[i * dn + j];
            if (k == 2 && is("sign")) s = -s;
            if (k == 0 && is("scale")) s = 2 * s;
            if (k == 1 && is("transpose")) gW[j * di + l] = s; /* W2 is square */
            else gW[l * dn + j] = s;
        }
    for (int j = 0; j < dn; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += gy[i * dn + j];
        gb[j] = s;
    }
}

static void tanh_backward(int K, const double *z, int count, const double *ga, double *gz) {
    for (int i = 0; i < count; i++) {
        double a = tanh(z[i]);
        if (K == 1 && is("derivative-at-output")) a = tanh(a); /* f'(a) at the output a */
        gz[i] = ga[i] * (1 - a * a);
    }
}

static void layer_forward(int K, const double *th, const double *x, int n, double *y) {
    if (K % 2) {
        for (int i = 0; i < n * H; i++) y[i] = tanh(x[i]);
    } else {
        dense_forward(K / 2, th, x, n, y);
    }
}

static void layer_backward(int K, const double *th, const double *x, int n, const double *gy,
                           double *gx, double *gp) {
    if (K % 2) {
        tanh_backward(K, x, n * H, gy, gx);
    } else {
        int k = K / 2;
        dense_backward(k, th, x, n, gy, gx, gp, gp + din[k] * dout[k]);
    }
}

static double loss(const double *th) {
    for (int K = 0; K < NLAYERS; K++) layer_forward(K, th, acts[K], N, acts[K + 1]);
    double s = 0;
    for (int i = 0; i < N * C; i++) {
        double r = acts[NLAYERS][i] - T[i];
        s += r * r;
    }
    return s / (2.0 * N);
}

static void grad(const double *th, double *g) {
    int width = D > H ? D : H;
    width = width > C ? width : C;
    double *gy = malloc(sizeof(double) * N * width), *gx = malloc(sizeof(double) * N * width);
    loss(th);
    for (int i = 0; i < N * C; i++) gy[i] = (acts[NLAYERS][i] - T[i]) / N;
    for (int K = NLAYERS - 1; K >= 0; K--) {
        layer_backward(K, th, acts[K], N, gy, gx, g + (K % 2 ? 0 : poff(K)));
        memcpy(gy, gx, sizeof(double) * N * in_width(K));
    }
    free(gy);
    free(gx);
}

static void print_numbers(const double *v, int count) {
    for (int i = 0; i < count; i++) printf(i ? " %.17g" : "%.17g", v[i]);
}

/* Parse exactly `count` numbers from s into out (strtod: any C format); 0 on mismatch. */
static int parse_numbers(char *s, double *out, int count) {
    for (int i = 0; i < count; i++) {
        char *end;
        out[i] = strtod(s, &end);
        if (end == s) return 0;
        s = end;
    }
    while (*s == ' ' || *s == '\n' || *s == '\r') s++;
    return *s == '\0';
}

static double lcg(unsigned long long *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((*state >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static void setup(unsigned long long seed) {
    din[0] = D; dout[0] = H; din[1] = H; dout[1] = H; din[2] = H; dout[2] = C;
    P = 0;
    for (int k = 0; k < 3; k++) {
        woff[k] = P; P += din[k] * dout[k];
        boff[k] = P; P += dout[k];
    }
    theta = calloc(P, sizeof(double));
    X = malloc(sizeof(double) * N * D);
    T = malloc(sizeof(double) * N * C);
    for (int i = 0; i < N * D; i++) X[i] = lcg(&seed);
    for (int i = 0; i < N * C; i++) T[i] = lcg(&seed);
    int width = D > H ? D : H;
    width = width > C ? width : C;
    acts[0] = X;
    for (int K = 1; K <= NLAYERS; K++) acts[K] = malloc(sizeof(double) * N * width);
}

static void declare(void) {
    printf("gradcheck-protocol 1\n");
    for (int k = 0; k < 3; k++) {
        printf("param W%d %d %d\n", k + 1, din[k], dout[k]);
        printf("param b%d %d\n", k + 1, dout[k]);
    }
    printf("layer dense1 W1 b1\nlayer tanh1\nlayer dense2 W2 b2\nlayer tanh2\n");
    printf("layer dense3 W3 b3\nend\n");
    fflush(stdout);
}

static void do_forward(char *args) {
    char *end;
    long K = strtol(args, &end, 10), n = strtol(end, &end, 10), d = strtol(end, &end, 10);
    if (K < 0 || K >= NLAYERS || n < 1 || d != in_width(K)) {
        printf("error forward: bad K N D (layer K in 0..%d takes D = its input width)", NLAYERS - 1);
        return;
    }
    free(cache_x);
    cache_x = malloc(sizeof(double) * n * d);
    if (!parse_numbers(end, cache_x, n * d)) {
        printf("error forward %ld: expected N*D = %ld numbers", K, n * d);
        return;
    }
    double *y = malloc(sizeof(double) * n * out_width(K));
    layer_forward(K, theta, cache_x, n, y);
    cache_layer = K;
    cache_n = n;
    printf("%ld %d ", n, out_width(K));
    print_numbers(y, n * out_width(K));
    free(y);
}

static void do_backward(char *args) {
    char *end;
    long K = strtol(args, &end, 10);
    if (K != cache_layer) {
        printf("error backward %ld: send `forward %ld N D X...` first", K, K);
        return;
    }
    int n = cache_n, e = out_width(K), d = in_width(K);
    double *gy = malloc(sizeof(double) * n * e), *gx = malloc(sizeof(double) * n * d);
    double *gp = malloc(sizeof(double) * (nparams(K) + 1));
    if (!parse_numbers(end, gy, n * e)) {
        printf("error backward %ld: expected N*E = %d numbers", K, n * e);
    } else {
        layer_backward(K, theta, cache_x, n, gy, gx, gp);
        print_numbers(gx, n * d);
        if (nparams(K)) printf(" ");
        print_numbers(gp, nparams(K));
    }
    free(gy);
    free(gx);
    free(gp);
}

static void do_loss_at(char *args) {
    char *end;
    long i = strtol(args, &end, 10);
    double h;
    if (end == args || i < 0 || i >= P || !parse_numbers(end, &h, 1)) {
        printf("error loss_at: expected I (0..%d) and H", P - 1);
        return;
    }
    double saved = theta[i];
    theta[i] = saved + h;
    double value = loss(theta);
    theta[i] = saved;
    printf("%.17g", value);
}

static void do_loss_along(char *args) {
    double *v = malloc(sizeof(double) * (P + 1)), *moved = malloc(sizeof(double) * P);
    if (!parse_numbers(args, v, P + 1)) {
        printf("error loss_along: expected T and then P = %d numbers", P);
    } else {
        for (int i = 0; i < P; i++) moved[i] = theta[i] + v[0] * v[i + 1];
        printf("%.17g", loss(moved));
    }
    free(v);
    free(moved);
}

/* One request; returns 0 on `quit`. */
static int respond(char *line) {
    char *args = strchr(line, ' ');
    args = args ? args + 1 : line + strlen(line);
    if (strncmp(line, "quit", 4) == 0) return 0;
    if (strncmp(line, "params ", 7) == 0) {
        if (parse_numbers(args, theta, P)) printf("ok");
        else printf("error params: expected P = %d numbers", P);
    } else if (strcmp(line, "loss") == 0) {
        printf("%.17g", loss(theta));
    } else if (strcmp(line, "grad") == 0) {
        double *g = malloc(sizeof(double) * P);
        grad(theta, g);
        print_numbers(g, P);
        free(g);
    } else if (strncmp(line, "loss_at ", 8) == 0) {
        do_loss_at(args);
    } else if (strncmp(line, "loss_along ", 11) == 0) {
        do_loss_along(args);
    } else if (strcmp(line, "input") == 0) {
        printf("%d %d ", N, D);
        print_numbers(X, N * D);
    } else if (strncmp(line, "forward ", 8) == 0) {
        do_forward(args);
    } else if (strncmp(line, "backward ", 9) == 0) {
        do_backward(args);
    } else {
        printf("error unknown request");
    }
    printf("\n");
    fflush(stdout);
    return 1;
}

static double seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Wall and CPU microseconds per loss evaluation, in-process (no I/O). */
static void bench(long m) {
    for (int i = 0; i < P; i++) theta[i] = 0.1 * sin(i);
    double sink = 0;
    double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (long r = 0; r < m; r++) {
        int i = (int)(r % P);
        double saved = theta[i];
        theta[i] = saved + 1e-6;
        sink += loss(theta);
        theta[i] = saved;
    }
    wall = (seconds(CLOCK_MONOTONIC) - wall) * 1e6 / m;
    cpu = (seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) * 1e6 / m;
    printf("%.3f %.3f %.17g\n", wall, cpu, sink);
}

int main(int argc, char **argv) {
    unsigned long long seed = 1;
    long bench_m = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--sizes") == 0) sscanf(argv[i + 1], "%d,%d,%d", &D, &H, &C);
        else if (strcmp(argv[i], "--batch") == 0) N = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seed") == 0) seed = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--bug") == 0) bug = argv[i + 1];
        else if (strcmp(argv[i], "--bench-loss") == 0) bench_m = atol(argv[i + 1]);
        else {
            fprintf(stderr, "mlp: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (*bug && !is("sign") && !is("scale") && !is("transpose") && !is("derivative-at-output")) {
        fprintf(stderr, "mlp: --bug takes sign|scale|transpose|derivative-at-output\n");
        return 2;
    }
    setup(seed);
    if (bench_m) {
        bench(bench_m);
        return 0;
    }
    declare();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, stdin)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = '\0';
        if (!respond(line)) break;
    }
    free(line);
    return 0;
}
