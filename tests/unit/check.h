/*
 * check.h: the unit tests' tiny assertion kit.  A failed CHECK prints
 * where and what, counts the failure and goes on, so one run shows every
 * broken case; main() returns check_done(), which automake's harness
 * reads as pass (0) or fail (1).
 */
#ifndef TANDEM_CHECK_H
#define TANDEM_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond) do {						\
	check_count++;							\
	if (!(cond)) {							\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
		    __FILE__, __LINE__, #cond);				\
	}								\
} while (0)

#define CHECK_STR(a, b) do {						\
	const char *check_a_ = (a), *check_b_ = (b);			\
	check_count++;							\
	if (check_a_ == NULL || check_b_ == NULL ||			\
	    strcmp(check_a_, check_b_) != 0) {				\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n",\
		    __FILE__, __LINE__, check_a_ ? check_a_ : "(null)",	\
		    check_b_ ? check_b_ : "(null)");			\
	}								\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long check_a_ = (long long)(a), check_b_ = (long long)(b);	\
	check_count++;							\
	if (check_a_ != check_b_) {					\
		check_failures++;					\
		fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, "	\
		    "expected %lld\n", __FILE__, __LINE__, #a, check_a_,	\
		    check_b_);						\
	}								\
} while (0)

static inline int
check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, check_count,
	    check_failures);
	if (check_count == 0)
		return 99;
	return check_failures ? 1 : 0;
}

#endif
