/*
 * prompt: line editing for a prompt without echo (prompt.h).
 */
#include <string.h>

#include <sodium.h>

#include "prompt.h"

#define CTRL(c)	((c) & 0x1f)

void
prompt_init(struct prompt *p)
{
	memset(p, 0, sizeof *p);
}

/* Forget the line (it may be a password): ready for the next one. */
void
prompt_clear(struct prompt *p)
{
	sodium_memzero(p->line, sizeof p->line);
	p->len = 0;
	p->too_long = 0;
}

/* Erase: the last character, with its UTF-8 continuation bytes. */
static void
erase(struct prompt *p)
{
	while (p->len > 0 &&
	    ((unsigned char)p->line[--p->len] & 0xc0) == 0x80)
		;
	p->line[p->len] = '\0';
}

static void
add(struct prompt *p, char c)
{
	if (p->len == PROMPT_MAX) {
		p->too_long = 1;
		return;
	}
	p->line[p->len++] = c;
	p->line[p->len] = '\0';
}

/*
 * Take bytes up to the end of a line or an abort; *used says how many
 * were taken (the rest belong to the next line, or to nobody).
 */
enum prompt_event
prompt_feed(struct prompt *p, const char *buf, size_t n, size_t *used)
{
	size_t	 i;
	int	 after_cr;

	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)buf[i];

		after_cr = p->after_cr;
		p->after_cr = 0;
		if (c == '\n' && after_cr)
			continue;
		if (c == '\r' || c == '\n') {
			p->after_cr = c == '\r';
			*used = i + 1;
			return PROMPT_LINE;
		}
		if (c == CTRL('C') || (c == CTRL('D') && p->len == 0)) {
			*used = i + 1;
			return PROMPT_ABORT;
		}
		if (c == 0x7f || c == CTRL('H'))
			erase(p);
		else if (c == CTRL('U'))
			prompt_clear(p);
		else if (c >= 0x20)
			add(p, (char)c);
		/* Other controls (and escape sequences' ESC) are dropped. */
	}
	*used = n;
	return PROMPT_MORE;
}
