/*
 * compat: what the BSD-derived code style expects and glibc lacks.
 * glibc's <sys/queue.h> has no _SAFE iterators, which every list walk
 * that may remove the current element needs.
 */
#ifndef TANDEM_COMPAT_H
#define TANDEM_COMPAT_H

#include <sys/queue.h>

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST((head));				\
	    (var) != NULL && ((tvar) = TAILQ_NEXT((var), field), 1);	\
	    (var) = (tvar))
#endif

#endif
