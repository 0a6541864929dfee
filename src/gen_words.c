/*
 * gen_words.c: a few words from the EFF large word list, in one of three
 * styles: brave-otter-lamp, Brave Otter Lamp, BraveOtterLamp.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "gen.h"
#include "rnd.h"

#define WORDS_MAX	16

enum style { STYLE_SLUG, STYLE_TITLE, STYLE_FORMAL, STYLE__MAX };

static const struct {
	const char	*name;
	char		 sep;		/* between words, '\0' for none */
	int		 cap;		/* capitalise each word */
} styles[STYLE__MAX] = {
	[STYLE_SLUG] =		{ "slug",	'-',	0 },
	[STYLE_TITLE] =		{ "title",	' ',	1 },
	[STYLE_FORMAL] =	{ "formal",	'\0',	1 },
};

static enum style
words_style(const struct params *p)
{
	struct field	 f;
	enum style	 s;

	param_get(p, "style", &f);
	if (f.kind == FIELD_ABSENT)
		return STYLE_SLUG;
	if (f.kind != FIELD_STRING)
		return STYLE__MAX;
	for (s = 0; s < STYLE__MAX; s++)
		if (strlen(styles[s].name) == f.len &&
		    memcmp(styles[s].name, f.str, f.len) == 0)
			break;
	return s;
}

/*
 * n indices uniform over the list from one draw of libsodium, since a
 * call costs as much as a system call: two bytes each, kept only below
 * the largest multiple of the list's size (95% are, for 7,772 words).
 */
static void
words_pick(uint32_t *idx, size_t n)
{
	unsigned char	 b[2 * (WORDS_MAX + 8)];
	uint32_t	 limit, v;
	size_t		 i, got = 0;

	limit = 65536 - 65536 % (uint32_t)gen_nwords;
	while (got < n) {
		rnd_bytes(b, sizeof(b));
		for (i = 0; i < sizeof(b) && got < n; i += 2)
			if ((v = (uint32_t)b[i] << 8 | b[i + 1]) < limit)
				idx[got++] = v % (uint32_t)gen_nwords;
	}
}

static int
words_generate(const struct params *p, struct gen_result *res)
{
	const char	*w;
	uint32_t	 idx[WORDS_MAX];
	enum style	 s;
	int64_t		 n, i;
	int		 st;

	if ((st = param_length(p, "length", 1, WORDS_MAX, 3, 0, &n,
	    res)) != 200)
		return st;
	if ((s = words_style(p)) == STYLE__MAX)
		return gen_error(res, 400,
		    "Style must be one of slug, title, formal");
	words_pick(idx, (size_t)n);
	for (i = 0; i < n; i++) {
		w = gen_wordlist[idx[i]];
		if (i > 0 && styles[s].sep != '\0')
			buf_addc(&res->id, styles[s].sep);
		/* Every word is a-z only, so upper case is one subtraction. */
		if (styles[s].cap) {
			buf_addc(&res->id, (char)(w[0] - 'a' + 'A'));
			w++;
		}
		buf_adds(&res->id, w);
	}
	return gen_done(res);
}

const struct generator gen_words = { "words", words_generate };
