/*
 * faultinject.c - makes a program's TCP reads and writes misbehave, legally.
 *
 * Loaded with LD_PRELOAD, this library stands in front of the C library's
 * read, recv, recvfrom, write, send and sendto (and of the fortified
 * __read_chk, __recv_chk and __recvfrom_chk). On a stream socket, each call
 * may fail with EINTR without doing anything, may fail with EAGAIN (only on
 * a non-blocking socket or with MSG_DONTWAIT, where the kernel can say that
 * too), or may move fewer bytes than asked. The kernel is allowed to do all of these at any
 * time; it just rarely does on a quiet machine, so the two classic bugs stay
 * hidden: "one recv() is one message" and "one send() sends everything".
 * Under this library they show up at once. Anything that is not a stream
 * socket (files, pipes, terminals, UDP sockets) passes through untouched.
 *
 * Environment (read once, when the library loads):
 *   FAULTINJECT_SEED    the seed of every random decision (0 and up); unset:
 *                       one is made from the time and the pid. The seed is
 *                       printed, so that a failing run can be replayed.
 *   FAULTINJECT_EINTR   chance, per mille, that a call fails with EINTR (100)
 *   FAULTINJECT_EAGAIN  chance, per mille, that a call on a non-blocking
 *                       socket fails with EAGAIN (100)
 *   FAULTINJECT_SHORT   chance, per mille, that a read or write is cut
 *                       short (500)
 *   FAULTINJECT_QUIET   1: do not print the "faultinject: seed N" line
 * A value that is not a number in range stops the program (exit status 2)
 * with one line on stderr: a misspelt setting must not test something else.
 *
 * Deliberate simplifications: readv, writev, recvmsg and sendmsg are not
 * wrapped, nor stdio streams opened on a socket (the C library calls the
 * system directly there). The decisions are random per thread, so a replay
 * repeats them exactly only if each thread makes the same calls in the same
 * order, which network timing may change.
 */

/*
 * Fortified builds turn read() and recv() into inline functions in the
 * headers, which would clash with the definitions below. This file wraps
 * the fortified entry points (__read_chk, ...) itself instead.
 */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Default chances, per mille (out of 1000 calls). */
#define DEFAULT_EINTR 100	/* fail with EINTR */
#define DEFAULT_EAGAIN 100	/* fail with EAGAIN (non-blocking only) */
#define DEFAULT_SHORT 500	/* move fewer bytes than asked */

/* Which way a call moves bytes, for fi_plan(). */
#define WRITING 0
#define READING 1

/* ------------------------------------------------------------------ */
/* State                                                              */
/* ------------------------------------------------------------------ */

/*
 * The real functions and the settings. fi_init() fills this in exactly
 * once, under pthread_once(), and nothing writes it afterwards: every
 * wrapper goes through pthread_once() first, so every thread reads it
 * without a lock.
 *
 * recvfrom and sendto take glibc's __SOCKADDR_ARG (a union of every socket
 * address pointer type when _GNU_SOURCE is set), so that the definitions
 * below match the declarations in <sys/socket.h>.
 */
static struct {
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, __SOCKADDR_ARG,
			    socklen_t *);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  __CONST_SOCKADDR_ARG, socklen_t);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
	ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int,
				struct sockaddr *, socklen_t *);
	unsigned long long seed;
	unsigned eintr, eagain, shorten;	/* per mille */
} fi;

static pthread_once_t fi_once = PTHREAD_ONCE_INIT;

/* How many threads have taken a random sequence of their own so far. */
static atomic_uint fi_threads;

/* This thread's xorshift state; 0 until its first decision. */
static _Thread_local uint64_t fi_rng;

/* The sequence number set aside in the parent for the child of a fork(). */
static _Thread_local unsigned fi_fork_seq;

/* ------------------------------------------------------------------ */
/* Random decisions                                                   */
/* ------------------------------------------------------------------ */

/*
 * SplitMix64's finalizer: spreads Z over all 64 bits, so that nearby seeds
 * and thread numbers give unrelated sequences.
 */
static uint64_t fi_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Returns the starting state of random sequence number N (never 0). */
static uint64_t fi_sequence(unsigned n)
{
	uint64_t s = fi_mix(fi.seed + UINT64_C(0x9E3779B97F4A7C15) * (n + 1));

	return s != 0 ? s : 1;	/* xorshift would stay at 0 forever */
}

/*
 * Returns this thread's next random number (xorshift64*). A thread's first
 * call takes the next sequence number, so threads never share a sequence
 * and no lock is needed.
 */
static uint64_t fi_next(void)
{
	uint64_t x = fi_rng;

	if (x == 0)
		x = fi_sequence(atomic_fetch_add(&fi_threads, 1));
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fi_rng = x;
	return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Returns 1 with a chance of PERMILLE in 1000, 0 otherwise. */
static int fi_chance(unsigned permille)
{
	return fi_next() % 1000 < permille;
}

/*
 * Returns a shortened length for a read of LEN (> 0) bytes: one byte a
 * quarter of the time, the worst case for a reader that expects whole
 * messages; anything from 1 to LEN otherwise.
 */
static size_t fi_read_len(size_t len)
{
	if (fi_next() % 4 == 0)
		return 1;
	return 1 + fi_next() % len;
}

/* Returns a shortened length for a write of LEN (> 0) bytes: 1 to LEN. */
static size_t fi_write_len(size_t len)
{
	return 1 + fi_next() % len;
}

/* ------------------------------------------------------------------ */
/* Which descriptors, which faults                                    */
/* ------------------------------------------------------------------ */

/* Returns 1 if FD is a stream (TCP or Unix stream) socket. May change errno. */
static int fi_is_stream(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return 0;	/* not a socket at all */
	return type == SOCK_STREAM;
}

/*
 * Returns 1 if a call on FD with FLAGS may return EAGAIN: the descriptor is
 * non-blocking, or the call asks not to wait. May change errno.
 */
static int fi_eagain_allowed(int fd, int flags)
{
	int fl;

	if (flags & MSG_DONTWAIT)
		return 1;
	fl = fcntl(fd, F_GETFL);
	return fl >= 0 && (fl & O_NONBLOCK);
}

/*
 * Decides the fate of one call on FD that is to move *LEN bytes one WAY
 * (READING or WRITING) with FLAGS. Returns -1 with errno set to the injected
 * error, or 0 with *LEN possibly made smaller and errno as it was.
 */
static int fi_plan(int fd, size_t *len, int flags, int way)
{
	int saved = errno;

	if (*len == 0 || (flags & MSG_PEEK) || !fi_is_stream(fd)) {
		errno = saved;
		return 0;
	}
	if (fi_chance(fi.eintr)) {
		errno = EINTR;
		return -1;
	}
	if (fi_chance(fi.eagain) && fi_eagain_allowed(fd, flags)) {
		errno = EAGAIN;
		return -1;
	}
	/* MSG_WAITALL promises the full length to a blocking reader. */
	if (fi_chance(fi.shorten) && !(way == READING && (flags & MSG_WAITALL)))
		*len = way == READING ? fi_read_len(*len) : fi_write_len(*len);
	errno = saved;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

/*
 * Writes LINE to stderr with the real write(), never through the wrapper.
 * A failure is ignored: there is nowhere left to report it.
 */
static void fi_say(const char *line)
{
	(void)fi.write(STDERR_FILENO, line, strlen(line));
}

/*
 * Stores the C library's function NAME in *SLOT. ISO C cannot convert
 * dlsym()'s void * to a function pointer; POSIX promises that both have
 * the same representation, so the bytes are copied.
 */
static void fi_resolve(const char *name, void *slot)
{
	void *fn = dlsym(RTLD_NEXT, name);

	memcpy(slot, &fn, sizeof(fn));
}

/*
 * Reads environment variable NAME as a decimal number from 0 to MAX.
 * Returns DEF when it is unset or empty; stops the program when it is
 * anything else than such a number.
 */
static unsigned long long fi_setting(const char *name, unsigned long long max,
				     unsigned long long def)
{
	const char *s = getenv(name);
	char *end, line[256];
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && v <= max)
		return v;
	snprintf(line, sizeof(line), "faultinject: %s='%s' is not a number"
		 " from 0 to %llu\n", name, s, max);
	fi_say(line);
	_exit(2);
}

/* A seed for a run that did not choose one: the time, then the pid. */
static unsigned long long fi_default_seed(void)
{
	return (unsigned long long)time(NULL) * 1000000 +
	       (unsigned long long)getpid() % 1000000;
}

/* Before fork(): sets aside a random sequence for the child. */
static void fi_prefork(void)
{
	fi_fork_seq = atomic_fetch_add(&fi_threads, 1);
}

/*
 * In the child of fork(): starts the sequence set aside for it, so that the
 * children of a forking server do not all repeat the same faults.
 */
static void fi_in_child(void)
{
	fi_rng = fi_sequence(fi_fork_seq);
}

/*
 * Finds the real functions, reads the settings and prints the seed. Runs
 * once (pthread_once); keeps errno as it was.
 */
static void fi_init(void)
{
	int saved = errno;
	const char *quiet;
	char line[64];

	fi_resolve("read", &fi.read);
	fi_resolve("recv", &fi.recv);
	fi_resolve("recvfrom", &fi.recvfrom);
	fi_resolve("write", &fi.write);
	fi_resolve("send", &fi.send);
	fi_resolve("sendto", &fi.sendto);
	fi_resolve("__read_chk", &fi.read_chk);
	fi_resolve("__recv_chk", &fi.recv_chk);
	fi_resolve("__recvfrom_chk", &fi.recvfrom_chk);

	fi.seed = fi_setting("FAULTINJECT_SEED", ULLONG_MAX,
			     fi_default_seed());
	fi.eintr = (unsigned)fi_setting("FAULTINJECT_EINTR", 1000,
					DEFAULT_EINTR);
	fi.eagain = (unsigned)fi_setting("FAULTINJECT_EAGAIN", 1000,
					 DEFAULT_EAGAIN);
	fi.shorten = (unsigned)fi_setting("FAULTINJECT_SHORT", 1000,
					  DEFAULT_SHORT);
	pthread_atfork(fi_prefork, NULL, fi_in_child);

	quiet = getenv("FAULTINJECT_QUIET");
	if (quiet == NULL || *quiet == '\0' || strcmp(quiet, "0") == 0) {
		snprintf(line, sizeof(line), "faultinject: seed %llu\n",
			 fi.seed);
		fi_say(line);
	}
	errno = saved;
}

/* Makes sure fi_init() has run, whichever thread gets here first. */
static void fi_start(void)
{
	pthread_once(&fi_once, fi_init);
}

/* Runs when the library is loaded, before main(): prints the seed early. */
__attribute__((constructor)) static void fi_load(void)
{
	fi_start();
}

/* ------------------------------------------------------------------ */
/* The wrappers                                                       */
/* ------------------------------------------------------------------ */

/*
 * These are the only functions this file exports: their names are what the
 * dynamic linker finds first. Each one asks fi_plan() for a fault, then
 * calls the real function, perhaps with a shorter length.
 */

ssize_t read(int fd, void *buf, size_t len)
{
	fi_start();
	if (fi_plan(fd, &len, 0, READING) < 0)
		return -1;
	return fi.read(fd, buf, len);
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	fi_start();
	if (fi_plan(fd, &len, flags, READING) < 0)
		return -1;
	return fi.recv(fd, buf, len, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 __SOCKADDR_ARG addr, socklen_t *addrlen)
{
	fi_start();
	if (fi_plan(fd, &len, flags, READING) < 0)
		return -1;
	return fi.recvfrom(fd, buf, len, flags, addr, addrlen);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	fi_start();
	if (fi_plan(fd, &len, 0, WRITING) < 0)
		return -1;
	return fi.write(fd, buf, len);
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	fi_start();
	if (fi_plan(fd, &len, flags, WRITING) < 0)
		return -1;
	return fi.send(fd, buf, len, flags);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       __CONST_SOCKADDR_ARG addr, socklen_t addrlen)
{
	fi_start();
	if (fi_plan(fd, &len, flags, WRITING) < 0)
		return -1;
	return fi.sendto(fd, buf, len, flags, addr, addrlen);
}

/*
 * What a program built with -D_FORTIFY_SOURCE calls instead of read, recv
 * and recvfrom when the compiler knows the size of the buffer (BUFLEN).
 * A length beyond BUFLEN goes straight to the real function, which stops
 * the program as it should.
 */

ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	fi_start();
	if (len <= buflen && fi_plan(fd, &len, 0, READING) < 0)
		return -1;
	return fi.read_chk(fd, buf, len, buflen);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	fi_start();
	if (len <= buflen && fi_plan(fd, &len, flags, READING) < 0)
		return -1;
	return fi.recv_chk(fd, buf, len, buflen, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *addrlen)
{
	fi_start();
	if (len <= buflen && fi_plan(fd, &len, flags, READING) < 0)
		return -1;
	return fi.recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen);
}
