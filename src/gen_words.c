/*
 * gen_words.c: a few words from the EFF large word list, in one of three
 * styles: brave-otter-lamp, Brave Otter Lamp, BraveOtterLamp.
 */
#include "config.h"

#include <string.h>

#include <sodium.h>

#include "gen.h"

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

static int
words_generate(const struct params *p, struct gen_result *res)
{
	const char	*w;
	enum style	 s;
	int64_t		 n, i;
	int		 st;

	if ((st = param_length(p, "length", 1, WORDS_MAX, 3, 0, &n,
	    res)) != 200)
		return st;
	if ((s = words_style(p)) == STYLE__MAX)
		return gen_error(res, 400,
		    "Style must be one of slug, title, formal");
	for (i = 0; i < n; i++) {
		w = gen_wordlist[randombytes_uniform((uint32_t)gen_nwords)];
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
