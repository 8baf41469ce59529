/*
 * test_cmdline: word splitting and option parsing for command lines
 * that arrive over SSH (src/cmdline.c).  Each quoting rule and each
 * error has a case, hostile lines (huge, full of quotes, control
 * characters) have theirs, and random lines and argvs go through both
 * functions under the sanitizers, which catch any overrun or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cmdline.h"

static uint64_t	 rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/*
 * Split line and join the words with '|' so that one string shows the
 * whole result; an error comes back as "ERR: message".
 */
static const char *
split_n(const char *line, size_t len)
{
	static char	 out[8192];
	const char	*e = "(unset)";
	char		**argv = (char **)1;
	int		 argc = -1, i;

	if (cmdline_split(line, len, &argv, &argc, &e) != 0) {
		if (argv != NULL || argc != 0)
			return "BAD: outputs not reset on error";
		snprintf(out, sizeof out, "ERR: %s", e);
		return out;
	}
	if (argv == NULL || argc < 1 || argv[argc] != NULL)
		return "BAD: argv not NULL-terminated";
	out[0] = '\0';
	for (i = 0; i < argc; i++) {
		if (i > 0)
			strcat(out, "|");
		strcat(out, argv[i]);
	}
	cmdline_free(argv, argc);
	return out;
}

static const char *
split(const char *line)
{
	return split_n(line, strlen(line));
}

static void
test_split_words(void)
{
	CHECK_STR(split("ls"), "ls");
	CHECK_STR(split("  share   --read-only\t--expires 1h\n"),
	    "share|--read-only|--expires|1h");
	CHECK_STR(split("a\nb\n\nc"), "a|b|c");
	/* No shell: metacharacters are ordinary. */
	CHECK_STR(split("a;b|c&&d $(rm -rf /) `id` >x <y *"),
	    "a;b|c&&d|$(rm|-rf|/)|`id`|>x|<y|*");
	CHECK_STR(split("# not a comment"), "#|not|a|comment");
	/* Bytes above ASCII pass through untouched. */
	CHECK_STR(split("share --label 'caf\xc3\xa9 \xe2\x98\x95'"),
	    "share|--label|caf\xc3\xa9 \xe2\x98\x95");
	CHECK_STR(split("\xff\xfe \x80"), "\xff\xfe|\x80");
	/* len, not the NUL, ends the line. */
	CHECK_STR(split_n("ls -l", 2), "ls");
	CHECK_STR(split_n("ls -l", 4), "ls|-");
}

static void
test_split_quotes(void)
{
	CHECK_STR(split("'a b'"), "a b");
	CHECK_STR(split("'a\\b\"c $x'"), "a\\b\"c $x");
	CHECK_STR(split("'a\nb\tc'"), "a\nb\tc");
	CHECK_STR(split("\"a b\""), "a b");
	CHECK_STR(split("\"a\\\"b\\\\c\\$d\\`e\""), "a\"b\\c$d`e");
	/* Other backslashes inside double quotes stay. */
	CHECK_STR(split("\"a\\nb\\'c\\ d\""), "a\\nb\\'c\\ d");
	CHECK_STR(split("\"it's\""), "it's");
	CHECK_STR(split("'say \"hi\"'"), "say \"hi\"");
	/* Adjacent parts join into one word. */
	CHECK_STR(split("a'b'\"c\"d"), "abcd");
	CHECK_STR(split("'a'' b'"), "a b");
	CHECK_STR(split("--label=\"my session\""), "--label=my session");
	/* Empty quotes make empty words, wherever they are. */
	CHECK_STR(split("label \"\""), "label|");
	CHECK_STR(split("''"), "");
	CHECK_STR(split("'' \"\" ''"), "||");
	CHECK_STR(split("a '' b"), "a||b");
	CHECK_STR(split("\"\"''\"\""), "");
	/* Backslash outside quotes escapes any one character. */
	CHECK_STR(split("a\\ b"), "a b");
	CHECK_STR(split("\\'x"), "'x");
	CHECK_STR(split("\\\"x"), "\"x");
	CHECK_STR(split("\\\\"), "\\");
	CHECK_STR(split("\\a\\b"), "ab");
	CHECK_STR(split("a\\\nb"), "a\nb");
	CHECK_STR(split("\\ "), " ");
	/* Alternation: "'" then '"' and so on, one character each. */
	CHECK_STR(split("\"'\"" "'\"'" "\"'\"" "'\"'" "\"'\""), "'\"'\"'");
}

static void
test_split_errors(void)
{
	char	*big, **argv;
	size_t	 i;
	int	 argc;
	char	 line[CMDLINE_MAX_ARGS * 4 + 8], want[CMDLINE_MAX_LEN];

	CHECK_STR(split(""), "ERR: empty command line");
	CHECK_STR(split(" \t\n "), "ERR: empty command line");
	CHECK_STR(split_n(NULL, 0), "ERR: empty command line");
	CHECK_STR(split_n(NULL, 5), "ERR: empty command line");
	CHECK_STR(split("'abc"), "ERR: unterminated quote in command line");
	CHECK_STR(split("\"abc"), "ERR: unterminated quote in command line");
	CHECK_STR(split("\"abc\\\""),
	    "ERR: unterminated quote in command line");
	CHECK_STR(split("'"), "ERR: unterminated quote in command line");
	CHECK_STR(split("a 'b\" c"),
	    "ERR: unterminated quote in command line");
	CHECK_STR(split("abc\\"), "ERR: trailing backslash in command line");
	CHECK_STR(split("\\"), "ERR: trailing backslash in command line");
	CHECK_STR(split_n("ls\0rm", 5), "ERR: NUL byte in command line");
	CHECK_STR(split_n("\0", 1), "ERR: NUL byte in command line");
	CHECK_STR(split_n("'\0'", 3), "ERR: NUL byte in command line");
	CHECK_STR(split("ls\x1b[2J"),
	    "ERR: control character in command line");
	CHECK_STR(split("ls\r"), "ERR: control character in command line");
	CHECK_STR(split("ls\x7f"), "ERR: control character in command line");
	CHECK_STR(split("'\x01'"), "ERR: control character in command line");
	CHECK_STR(split("\"\x1f\""), "ERR: control character in command line");
	CHECK_STR(split("\\\x08"), "ERR: control character in command line");

	/* Exactly CMDLINE_MAX_ARGS words, then one more. */
	line[0] = '\0';
	for (i = 0; i < CMDLINE_MAX_ARGS; i++)
		strcat(line, "x ");
	CHECK_INT(strlen(split(line)), CMDLINE_MAX_ARGS * 2 - 1);
	strcat(line, "y");
	CHECK_STR(split(line), "ERR: too many words in command line");
	/* Empty words count too. */
	line[0] = '\0';
	for (i = 0; i <= CMDLINE_MAX_ARGS; i++)
		strcat(line, "'' ");
	CHECK_STR(split(line), "ERR: too many words in command line");

	/* Exactly CMDLINE_MAX_LEN bytes, then one more. */
	big = malloc(20000);
	memset(big, 'a', 20000);
	CHECK_INT(strlen(split_n(big, CMDLINE_MAX_LEN)), CMDLINE_MAX_LEN);
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN + 1),
	    "ERR: command line too long");
	CHECK_STR(split_n(big, 20000), "ERR: command line too long");
	/* A line of nothing but quotes. */
	memset(big, '"', 20000);
	CHECK_STR(split_n(big, 10000), "ERR: command line too long");
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN), "");
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN - 1),
	    "ERR: unterminated quote in command line");
	memset(big, '\'', 20000);
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN), "");
	/* Thousands of words, far over the limit. */
	for (i = 0; i < 20000; i += 2)
		memcpy(big + i, "x ", 2);
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN),
	    "ERR: too many words in command line");
	/* Quotes nested as deep as the line allows: "'"'"'"'... */
	for (i = 0; i + 3 <= CMDLINE_MAX_LEN; i += 3) {
		memcpy(big + i, (i / 3) % 2 ? "'\"'" : "\"'\"", 3);
		want[i / 3] = (i / 3) % 2 ? '"' : '\'';
	}
	want[i / 3] = '\0';
	CHECK_STR(split_n(big, i), want);
	CHECK_STR(split_n(big, i - 1),
	    "ERR: unterminated quote in command line");
	/* Backslashes: an even run is fine, an odd one trails. */
	memset(big, '\\', 20000);
	CHECK_INT(strlen(split_n(big, CMDLINE_MAX_LEN)), CMDLINE_MAX_LEN / 2);
	CHECK_STR(split_n(big, CMDLINE_MAX_LEN - 1),
	    "ERR: trailing backslash in command line");
	free(big);

	/* errmsg may be NULL. */
	CHECK_INT(cmdline_split("'", 1, &argv, &argc, NULL), -1);
	CHECK(argv == NULL && argc == 0);
	cmdline_free(NULL, 0);
}

static const struct cmdline_opt opts[] = {
	{ "read-only", 'r', 0 },
	{ "expires", 'e', 1 },
	{ "json", 'j', 0 },
	{ "label", 'l', 1 },
	{ "max-viewers", 0, 1 },
	{ NULL, 'x', 0 },
};
#define NOPTS	(sizeof opts / sizeof *opts)
enum { O_RO, O_EXPIRES, O_JSON, O_LABEL, O_MAX, O_X };

static struct cmdline_parsed	 parsed;
static char			 perr[256];

/*
 * Split line, parse it against opts and describe the result as
 * "opt=value ... | pos pos" (flags show as "opt"), or "ERR: message".
 */
static const char *
parse(const char *line)
{
	static char	 out[4096];
	const char	*e;
	char		**argv;
	int		 argc, i;
	size_t		 n;

	if (cmdline_split(line, strlen(line), &argv, &argc, &e) != 0)
		return "BAD: split failed";
	perr[0] = '\0';
	if (cmdline_parse(argc, argv, opts, NOPTS, &parsed, perr,
	    sizeof perr) != 0) {
		snprintf(out, sizeof out, "ERR: %s", perr);
		cmdline_free(argv, argc);
		return out;
	}
	out[0] = '\0';
	for (n = 0; n < NOPTS; n++) {
		if (!parsed.present[n]) {
			if (parsed.value[n] != NULL)
				strcat(out, "BAD:value-without-present ");
			continue;
		}
		strcat(out, opts[n].name ? opts[n].name : "x");
		if (opts[n].takes_value) {
			strcat(out, "=");
			strcat(out, parsed.value[n]);
		}
		strcat(out, " ");
	}
	strcat(out, "|");
	if (parsed.pos != argv + 1)
		strcat(out, " BAD:pos");
	for (i = 0; i < parsed.npos; i++) {
		strcat(out, " ");
		strcat(out, parsed.pos[i]);
	}
	cmdline_free(argv, argc);
	return out;
}

static void
test_parse_forms(void)
{
	CHECK_STR(parse("share"), "|");
	CHECK_STR(parse("share --read-only --expires 1h"),
	    "read-only expires=1h |");
	CHECK_STR(parse("share --expires=1h"), "expires=1h |");
	CHECK_STR(parse("share --expires="), "expires= |");
	CHECK_STR(parse("share --label=a=b"), "label=a=b |");
	CHECK_STR(parse("share --label 'two words'"), "label=two words |");
	CHECK_STR(parse("share -e 1h"), "expires=1h |");
	CHECK_STR(parse("share -e1h"), "expires=1h |");
	CHECK_STR(parse("share -e=1h"), "expires==1h |");
	CHECK_STR(parse("share -r -j"), "read-only json |");
	CHECK_STR(parse("share -rj"), "read-only json |");
	CHECK_STR(parse("share -jrx"), "read-only json x |");
	/* A value-taking option in a bundle takes the rest, or the next. */
	CHECK_STR(parse("share -rje1h"), "read-only expires=1h json |");
	CHECK_STR(parse("share -rje 1h"), "read-only expires=1h json |");
	CHECK_STR(parse("share -erj"), "expires=rj |");
	CHECK_STR(parse("share --max-viewers 30"), "max-viewers=30 |");
	/* Values may look like options; they are still values. */
	CHECK_STR(parse("share --label --json"), "label=--json |");
	CHECK_STR(parse("share -l -j"), "label=-j |");
	CHECK_STR(parse("share --label -"), "label=- |");
	CHECK_STR(parse("share --label -- a"), "label=-- | a");
	CHECK_STR(parse("share --label ''"), "label= |");
	/* Option values are never permuted away from their options. */
	CHECK_STR(parse("share a -e 1h b"), "expires=1h | a b");
}

static void
test_parse_positionals(void)
{
	CHECK_STR(parse("kill abc"), "| abc");
	CHECK_STR(parse("kill a b c"), "| a b c");
	/* GNU style: options after positionals, order kept. */
	CHECK_STR(parse("share a --json b -e 1h c"), "expires=1h json | a b c");
	CHECK_STR(parse("share a b --json"), "json | a b");
	CHECK_STR(parse("share --json a b"), "json | a b");
	/* "--" ends options, and only the first one is special. */
	CHECK_STR(parse("share -- --json -r"), "| --json -r");
	CHECK_STR(parse("share -j -- -- x"), "json | -- x");
	CHECK_STR(parse("share a -- b --json"), "| a b --json");
	CHECK_STR(parse("share --"), "|");
	/* A lone "-" is a word, as in "read from stdin". */
	CHECK_STR(parse("share -"), "| -");
	CHECK_STR(parse("share - -j -"), "json | - -");
	CHECK_STR(parse("share ''"), "| ");
	CHECK_STR(parse("share caf\xc3\xa9"), "| caf\xc3\xa9");
}

static void
test_parse_errors(void)
{
	char	 big[6000];

	CHECK_STR(parse("share --foo"), "ERR: unknown option '--foo'");
	CHECK_STR(parse("share --foo=bar"), "ERR: unknown option '--foo'");
	CHECK_STR(parse("share --Json"), "ERR: unknown option '--Json'");
	CHECK_STR(parse("share --js"), "ERR: unknown option '--js'");
	CHECK_STR(parse("share --jsonx"), "ERR: unknown option '--jsonx'");
	CHECK_STR(parse("share --x"), "ERR: unknown option '--x'");
	CHECK_STR(parse("share --=x"), "ERR: unknown option '--=x'");
	CHECK_STR(parse("share --="), "ERR: unknown option '--='");
	CHECK_STR(parse("share ---x"), "ERR: unknown option '---x'");
	CHECK_STR(parse("share ---"), "ERR: unknown option '---'");
	CHECK_STR(parse("share ----json"), "ERR: unknown option '----json'");
	CHECK_STR(parse("share -z"), "ERR: unknown option '-z'");
	CHECK_STR(parse("share -rz"), "ERR: unknown option '-z'");
	CHECK_STR(parse("share -="), "ERR: unknown option '-='");
	CHECK_STR(parse("share -\xc3\xa9"),
	    "ERR: unknown option '-\xc3\xa9'");
	CHECK_STR(parse("share --caf\xc3\xa9"),
	    "ERR: unknown option '--caf\xc3\xa9'");
	CHECK_STR(parse("share a b --bogus c"),
	    "ERR: unknown option '--bogus'");
	/* Tabs and newlines in a word never reach the message. */
	CHECK_STR(parse("share '--a\nb\tc'"), "ERR: unknown option '--a?b?c'");
	CHECK_STR(parse("share '-\t'"), "ERR: unknown option '-?'");

	CHECK_STR(parse("share --expires"),
	    "ERR: option '--expires' needs a value");
	CHECK_STR(parse("share -e"), "ERR: option '-e' needs a value");
	CHECK_STR(parse("share -rje"), "ERR: option '-e' needs a value");
	CHECK_STR(parse("share a --label"),
	    "ERR: option '--label' needs a value");

	CHECK_STR(parse("share --json=1"),
	    "ERR: option '--json' takes no value");
	CHECK_STR(parse("share --json="),
	    "ERR: option '--json' takes no value");
	CHECK_STR(parse("share --read-only=yes"),
	    "ERR: option '--read-only' takes no value");

	CHECK_STR(parse("share --json --json"),
	    "ERR: option '--json' given twice");
	CHECK_STR(parse("share -j --json"),
	    "ERR: option '--json' given twice");
	CHECK_STR(parse("share -jj"), "ERR: option '-j' given twice");
	CHECK_STR(parse("share --expires 1h -e 2h"),
	    "ERR: option '-e' given twice");
	CHECK_STR(parse("share --label=a --label=a"),
	    "ERR: option '--label' given twice");

	/* A huge option name is cut short in the message. */
	memset(big, 'z', sizeof big);
	memcpy(big, "x --", 4);
	big[CMDLINE_MAX_LEN] = '\0';
	CHECK(strncmp(parse(big), "ERR: unknown option '--zzz", 26) == 0);
	CHECK(strlen(perr) < 120);
	CHECK(strstr(perr, "...'") != NULL);
}

static void
test_parse_api(void)
{
	struct cmdline_opt	 many[CMDLINE_MAX_OPTS + 1];
	char			 name0[] = "cmd", a[] = "-a", b[] = "--zz";
	char			*argv[] = { name0, a, b, NULL };
	char			 err[64], small[8];
	size_t			 i;

	memset(many, 0, sizeof many);
	for (i = 0; i <= CMDLINE_MAX_OPTS; i++)
		many[i].short_name = (char)('a' + i);
	many[1].name = "zz";
	CHECK_INT(cmdline_parse(3, argv, many, CMDLINE_MAX_OPTS + 1,
	    &parsed, err, sizeof err), -1);
	CHECK_STR(err, "too many options (at most 16)");
	CHECK_INT(cmdline_parse(3, argv, many, CMDLINE_MAX_OPTS, &parsed,
	    err, sizeof err), 0);
	CHECK_INT(parsed.present[0], 1);
	CHECK_INT(parsed.present[1], 1);
	CHECK_INT(parsed.present[2], 0);
	CHECK_INT(parsed.npos, 0);

	/* argc 1 has no options and no words; argc 0 is an error. */
	CHECK_INT(cmdline_parse(1, argv, opts, NOPTS, &parsed, err,
	    sizeof err), 0);
	CHECK_INT(parsed.npos, 0);
	CHECK(parsed.pos == argv + 1);
	CHECK_INT(cmdline_parse(0, argv, opts, NOPTS, &parsed, err,
	    sizeof err), -1);
	CHECK_INT(cmdline_parse(1, NULL, opts, NOPTS, &parsed, err,
	    sizeof err), -1);
	/* No table: every option is unknown, words still come through. */
	CHECK_INT(cmdline_parse(2, argv, NULL, 0, &parsed, err, sizeof err),
	    -1);
	CHECK_STR(err, "unknown option '-a'");
	argv[1] = name0;
	CHECK_INT(cmdline_parse(2, argv, NULL, 0, &parsed, err, sizeof err),
	    0);
	CHECK_INT(parsed.npos, 1);
	argv[1] = a;

	/* A short or absent error buffer is never overrun. */
	memset(small, 'Z', sizeof small);
	CHECK_INT(cmdline_parse(2, argv, NULL, 0, &parsed, small, 4), -1);
	CHECK_STR(small, "unk");
	CHECK_INT(small[4], 'Z');
	CHECK_INT(cmdline_parse(2, argv, NULL, 0, &parsed, NULL, 0), -1);

	/* An empty long name never matches "--=x". */
	many[0].name = "";
	many[0].takes_value = 1;
	argv[1] = (char *)"--=x";
	CHECK_INT(cmdline_parse(2, argv, many, 1, &parsed, err, sizeof err),
	    -1);
	CHECK_STR(err, "unknown option '--=x'");
}

/* Every value points inside one of the words. */
static int
inside_some_word(const char *v, char **words, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		if (v >= words[i] && v <= words[i] + strlen(words[i]))
			return 1;
	}
	return 0;
}

static int
ptr_cmp(const void *a, const void *b)
{
	uintptr_t	 x = (uintptr_t)*(char *const *)a;
	uintptr_t	 y = (uintptr_t)*(char *const *)b;

	return (x > y) - (x < y);
}

/* After a parse argv must still hold the same words, reordered. */
static int
same_words(char **a, char **b, int n)
{
	qsort(a, (size_t)n, sizeof *a, ptr_cmp);
	qsort(b, (size_t)n, sizeof *b, ptr_cmp);
	return memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static void
check_parse_invariants(int argc, char **argv, int r)
{
	size_t	 n;
	int	 i;

	if (r != 0)
		return;
	CHECK(parsed.npos >= 0 && parsed.npos < argc);
	CHECK(parsed.pos == argv + 1);
	for (i = 0; i < parsed.npos; i++)
		CHECK(parsed.pos[i] != NULL);
	for (n = 0; n < NOPTS; n++) {
		if (parsed.value[n] != NULL)
			CHECK(parsed.present[n] && opts[n].takes_value &&
			    inside_some_word(parsed.value[n], argv, argc));
		if (parsed.present[n] && opts[n].takes_value)
			CHECK(parsed.value[n] != NULL);
	}
}

static const char *const tokens[] = {
	"--", "-", "---", "--=", "--=x", "---x", "--json", "--json=",
	"--json=1", "--expires", "--expires=", "--expires=1h", "-e", "-e1h",
	"-rj", "-rje", "-jre1h", "-x", "-xx", "-z", "--label", "--label=a b",
	"-l", "word", "", "\xc3\xa9", "-\xc3\xa9", "--\xc3\xa9", "'", "\"",
	"\\", "--max-viewers", "-\n", "--a\tb",
};

/*
 * A random line of up to size bytes: hostile ones hold any byte, the
 * others only quoting, spacing and option-like characters.
 */
static size_t
fuzz_line(char *line, size_t size, int hostile)
{
	size_t	 len = rng() % size, j;

	for (j = 0; j < len; j++) {
		switch (rng() % 8) {
		case 0:
			line[j] = hostile ? (char)rng() : ' ';
			break;
		case 1:
			line[j] = "'\"\\"[rng() % 3];
			break;
		case 2:
			line[j] = " \t\n"[rng() % 3];
			break;
		case 3:
			line[j] = '-';
			break;
		default:
			line[j] = "abcdejrlxz=\xc3\xa9"[rng() % 13];
			break;
		}
	}
	return len;
}

/* Random lines and random argvs, under ASan and UBSan. */
static void
test_fuzz(void)
{
	char		 line[700], *copy[CMDLINE_MAX_ARGS + 2];
	char		*argv[CMDLINE_MAX_ARGS + 2], err[128];
	char		**words;
	const char	*e;
	size_t		 len;
	int		 i, argc, r, n, nsplit = 0, nparse = 0;

	for (i = 0; i < 30000; i++) {
		len = fuzz_line(line, i % 4 == 0 ? sizeof line : 48, i % 2);
		e = NULL;
		r = cmdline_split(line, len, &words, &argc, &e);
		CHECK(r == 0 || (r == -1 && e != NULL && words == NULL));
		if (r != 0)
			continue;
		nsplit++;
		CHECK(argc >= 1 && argc <= CMDLINE_MAX_ARGS &&
		    words[argc] == NULL);
		memcpy(copy, words, (size_t)argc * sizeof *words);
		r = cmdline_parse(argc, words, opts, NOPTS, &parsed, err,
		    sizeof err);
		CHECK(r == 0 || (r == -1 && err[0] != '\0'));
		nparse += (r == 0);
		check_parse_invariants(argc, words, r);
		memcpy(argv, words, (size_t)argc * sizeof *words);
		CHECK(same_words(argv, copy, argc));
		cmdline_free(words, argc);
	}
	/* The generator must reach the parser, and past it, often enough. */
	CHECK(nsplit > 3000);
	CHECK(nparse > 1000);

	for (i = 0; i < 30000; i++) {
		n = 1 + (int)(rng() % 12);
		argv[0] = (char *)"cmd";
		for (argc = 1; argc < n; argc++)
			argv[argc] = (char *)tokens[rng() %
			    (sizeof tokens / sizeof *tokens)];
		argv[argc] = NULL;
		memcpy(copy, argv, (size_t)argc * sizeof *argv);
		err[0] = '\0';
		r = cmdline_parse(argc, argv, opts, NOPTS, &parsed, err,
		    sizeof err);
		CHECK(r == 0 || (r == -1 && err[0] != '\0'));
		CHECK(strpbrk(err, "\t\n") == NULL);
		check_parse_invariants(argc, argv, r);
		CHECK(same_words(argv, copy, argc));
	}
}

int
main(void)
{
	test_split_words();
	test_split_quotes();
	test_split_errors();
	test_parse_forms();
	test_parse_positionals();
	test_parse_errors();
	test_parse_api();
	test_fuzz();
	return check_done("test_cmdline");
}
