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
	char		 sep;		/* between words, '\0' for none */
	int		 cap;		/* capitalise each word */
} styles[STYLE__MAX] = {
	[STYLE_SLUG] =		{ '-',	0 },
	[STYLE_TITLE] =		{ ' ',	1 },
	[STYLE_FORMAL] =	{ '\0',	1 },
};

static const char *const style_names[STYLE__MAX + 1] = {
	"slug", "title", "formal", NULL
};

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

static enum status
words_generate(const struct gen_args *a, struct gen_result *res)
{
	const char	*w;
	uint32_t	 idx[WORDS_MAX];
	int64_t		 n = a->num[0], i, s = a->num[1];

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

const struct generator gen_words = { "words", words_generate, {
	{ .name = "length", .kind = GOPT_INT, .min = 1, .max = WORDS_MAX,
	  .def = 3 },
	{ .name = "style", .kind = GOPT_CHOICE, .choices = style_names,
	  .bad = "Style must be one of slug, title, formal" },
}, 0 };
