/*
 * sqids.c: the Sqids algorithm (see sqids.h), following the reference
 * step for step: the alphabet shuffled once by the constructor, an
 * offset from the numbers, a prefix, each number in the reversed
 * alphabet less its first character, that first character as the
 * separator, a shuffle after each, padding to the minimum length, and a
 * retry with the next offset while the blocklist matches.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sqids.h"
#include "utf8.h"

#define ALPHABET_MAX	128	/* ASCII, each character once */
#define KELVIN		0x212a	/* the one non-ASCII character whose
				   lower case is ASCII ("k") */

struct word {
	const char	*s;		/* lower case */
	size_t		 len;
	int		 digit;		/* holds 0-9: matches at the ends only */
};

struct sqids {
	unsigned char	 alphabet[ALPHABET_MAX];	/* shuffled */
	size_t		 len;
	struct word	*words;
	size_t		 nwords;
	char		*text;		/* the words' storage */
	/* what it was built from, for the cache */
	int		 dflt_alphabet, dflt_blocklist;
	char		*key;		/* alphabet, NUL, blocklist */
	size_t		 alen, blen;
};

static const char *const messages[SQIDS__MAX] = {
	[SQIDS_OK] = "ok",
	[SQIDS_EMULTIBYTE] = "Alphabet cannot contain multibyte characters",
	[SQIDS_ESHORT] = "Alphabet length must be at least 3",
	[SQIDS_EUNIQUE] = "Alphabet must contain unique characters",
	[SQIDS_EATTEMPTS] = "Reached max attempts to re-generate the ID",
	[SQIDS_ERANGE] = "Decoding gave a number past 18446744073709551615",
	[SQIDS_ENOMEM] = "Out of memory",
};

const char *
sqids_strerror(enum sqids_rc rc)
{
	return rc < SQIDS__MAX ? messages[rc] : "unknown error";
}

static void
shuffle(unsigned char *c, size_t len)
{
	size_t		 i, j, r;
	unsigned char	 t;

	for (i = 0, j = len - 1; j > 0; i++, j--) {
		r = (i * j + c[i] + c[j]) % len;
		t = c[i];
		c[i] = c[r];
		c[r] = t;
	}
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* ---- the blocklist ---------------------------------------------------- */

/*
 * Word w in lower case into out, or 0 when the reference drops it:
 * shorter than 3 UTF-16 units, or a character whose lower case is not in
 * the alphabet's (inalpha, by byte).  Only ASCII and KELVIN can pass.
 */
static size_t
word_lower(const char *w, size_t len, const unsigned char *inalpha,
    char *out)
{
	size_t		 i, l, units = 0, o = 0;
	uint32_t	 cp;
	unsigned char	 c;

	for (i = 0; i < len; i += l) {
		if ((l = utf8_next(w + i, len - i, &cp)) == 0)
			return 0;
		units += cp > 0xffff ? 2 : 1;
		if (cp == KELVIN)
			c = 'k';
		else if (cp < 0x80)
			c = lower((unsigned char)cp);
		else
			return 0;
		if (!inalpha[c])
			return 0;
		out[o++] = (char)c;
	}
	return units >= 3 ? o : 0;
}

static void
word_add(struct sqids *s, const char *w, size_t len,
    const unsigned char *inalpha, char **text)
{
	struct word	*wd;
	size_t		 n, i;

	if ((n = word_lower(w, len, inalpha, *text)) == 0)
		return;
	wd = &s->words[s->nwords++];
	wd->s = *text;
	wd->len = n;
	wd->digit = 0;
	for (i = 0; i < n; i++)
		wd->digit |= wd->s[i] >= '0' && wd->s[i] <= '9';
	*text += n;
}

/* The words that can ever match, from list (NULL: the default). */
static enum sqids_rc
blocklist_make(struct sqids *s, const char *list, size_t len)
{
	unsigned char	 inalpha[256];
	size_t		 i, n = 1, bytes = len, w;
	char		*text;

	memset(inalpha, 0, sizeof(inalpha));
	for (i = 0; i < s->len; i++)
		inalpha[lower(s->alphabet[i])] = 1;
	if (list == NULL)
		for (n = sqids_nblocklist, bytes = i = 0; i < n; i++)
			bytes += strlen(sqids_blocklist[i]);
	else
		for (i = 0; i < len; i++)
			n += list[i] == ',';
	if ((s->words = calloc(n, sizeof(*s->words))) == NULL ||
	    (s->text = text = malloc(bytes + 1)) == NULL)
		return SQIDS_ENOMEM;
	if (list == NULL) {
		for (i = 0; i < n; i++)
			word_add(s, sqids_blocklist[i],
			    strlen(sqids_blocklist[i]), inalpha, &text);
		return SQIDS_OK;
	}
	for (w = i = 0; i <= len; i++)
		if (i == len || list[i] == ',') {
			word_add(s, list + w, i - w, inalpha, &text);
			w = i + 1;
		}
	return SQIDS_OK;
}

/* The reference's isBlockedId, on an ID in lower case. */
static int
blocked(const struct sqids *s, const char *id, size_t len)
{
	const struct word *w;
	size_t		 i;

	for (i = 0; i < s->nwords; i++) {
		w = &s->words[i];
		if (w->len > len)
			continue;
		if (len <= 3 || w->len <= 3) {
			if (w->len == len && memcmp(w->s, id, len) == 0)
				return 1;
		} else if (w->digit) {
			if (memcmp(id, w->s, w->len) == 0 ||
			    memcmp(id + len - w->len, w->s, w->len) == 0)
				return 1;
		} else if (memmem(id, len, w->s, w->len) != NULL)
			return 1;
	}
	return 0;
}

/* ---- set-ups and their cache ------------------------------------------ */

static void
sqids_free(struct sqids *s)
{
	if (s == NULL)
		return;
	free(s->words);
	free(s->text);
	free(s->key);
	free(s);
}

static enum sqids_rc
alphabet_check(const char *a, size_t len)
{
	unsigned char	 seen[ALPHABET_MAX];
	size_t		 i;

	for (i = 0; i < len; i++)
		if ((unsigned char)a[i] >= 0x80)
			return SQIDS_EMULTIBYTE;
	if (len < SQIDS_MIN_ALPHABET)
		return SQIDS_ESHORT;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < len; i++)
		if (seen[(unsigned char)a[i]]++)
			return SQIDS_EUNIQUE;
	return SQIDS_OK;
}

static enum sqids_rc
sqids_new(struct sqids **out, const char *a, size_t alen, const char *b,
    size_t blen)
{
	struct sqids	*s;
	enum sqids_rc	 rc;

	*out = NULL;
	if ((rc = alphabet_check(a, alen)) != SQIDS_OK)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return SQIDS_ENOMEM;
	memcpy(s->alphabet, a, alen);
	s->len = alen;
	/* The reference filters the blocklist by the alphabet as given,
	 * then shuffles it. */
	rc = blocklist_make(s, b, blen);
	shuffle(s->alphabet, s->len);
	if (rc == SQIDS_OK && (s->key = malloc(alen + blen + 1)) == NULL)
		rc = SQIDS_ENOMEM;
	if (rc != SQIDS_OK) {
		sqids_free(s);
		return rc;
	}
	memcpy(s->key, a, alen);
	if (b != NULL)
		memcpy(s->key + alen, b, blen);
	s->alen = alen;
	s->blen = blen;
	s->dflt_blocklist = b == NULL;
	*out = s;
	return SQIDS_OK;
}

/* The defaults, kept for good; and the last other set-up asked for. */
static struct sqids *dflt, *last;

static int
same(const struct sqids *s, const char *a, size_t alen, const char *b,
    size_t blen)
{
	return s != NULL && s->alen == alen && memcmp(s->key, a, alen) == 0 &&
	    s->dflt_blocklist == (b == NULL) && (b == NULL ||
	    (s->blen == blen && memcmp(s->key + alen, b, blen) == 0));
}

enum sqids_rc
sqids_get(const struct sqids **out, const char *a, size_t alen,
    const char *b, size_t blen)
{
	struct sqids	*s;
	enum sqids_rc	 rc;

	if (a == NULL) {
		a = SQIDS_DEFAULT_ALPHABET;
		alen = sizeof(SQIDS_DEFAULT_ALPHABET) - 1;
	}
	if (b == NULL)
		blen = 0;
	if (alen == sizeof(SQIDS_DEFAULT_ALPHABET) - 1 && b == NULL &&
	    memcmp(a, SQIDS_DEFAULT_ALPHABET, alen) == 0) {
		if (dflt == NULL && (rc = sqids_new(&dflt, a, alen, NULL,
		    0)) != SQIDS_OK)
			return rc;
		*out = dflt;
		return SQIDS_OK;
	}
	if (!same(last, a, alen, b, blen)) {
		if ((rc = sqids_new(&s, a, alen, b, blen)) != SQIDS_OK)
			return rc;
		sqids_free(last);
		last = s;
	}
	*out = last;
	return SQIDS_OK;
}

void
sqids_cache_clear(void)
{
	sqids_free(dflt);
	sqids_free(last);
	dflt = last = NULL;
}

/* ---- encoding --------------------------------------------------------- */

/* num in the digits of a, most significant first. */
static void
to_id(uint64_t num, const unsigned char *a, size_t len, struct buf *out)
{
	char	 d[64];
	size_t	 n = 0;

	do {
		d[n++] = (char)a[num % len];
		num /= len;
	} while (num > 0);
	while (n > 0)
		buf_addc(out, d[--n]);
}

/* One attempt, at offset increment: the ID in out from `from` on. */
static void
encode_once(const struct sqids *s, const uint64_t *nums, size_t n,
    unsigned min_length, size_t increment, struct buf *out, size_t from)
{
	unsigned char	 a[ALPHABET_MAX], t;
	size_t		 len = s->len, off = n, i, k;

	if (len == 0)		/* never: an alphabet has 3 characters or more */
		return;
	for (i = 0; i < n; i++)
		off += s->alphabet[nums[i] % len] + i;
	off = (off % len + increment) % len;
	for (i = 0; i < len; i++)
		a[i] = s->alphabet[(off + i) % len];
	buf_addc(out, (char)a[0]);
	for (i = 0; i < len / 2; i++) {		/* reversed */
		t = a[i];
		a[i] = a[len - 1 - i];
		a[len - 1 - i] = t;
	}
	for (i = 0; i < n; i++) {
		to_id(nums[i], a + 1, len - 1, out);
		if (i + 1 < n) {
			buf_addc(out, (char)a[0]);
			shuffle(a, len);
		}
	}
	if (min_length > out->len - from) {
		buf_addc(out, (char)a[0]);
		while (min_length > out->len - from) {
			shuffle(a, len);
			k = min_length - (out->len - from);
			buf_add(out, a, k < len ? k : len);
		}
	}
}

enum sqids_rc
sqids_encode(const struct sqids *s, const uint64_t *nums, size_t n,
    unsigned min_length, struct buf *out)
{
	char		 low[SQIDS_MAX_MIN_LENGTH + 1];
	char		*lc = low;
	size_t		 from = out->len, increment, i, len;

	if (n == 0)
		return SQIDS_OK;
	for (increment = 0; increment <= s->len; increment++) {
		out->len = from;
		encode_once(s, nums, n, min_length, increment, out, from);
		if (out->err)
			break;
		if (s->nwords == 0)
			return SQIDS_OK;
		len = out->len - from;
		if (len > sizeof(low) && (lc = malloc(len)) == NULL)
			break;
		for (i = 0; i < len; i++)
			lc[i] = (char)lower((unsigned char)out->data[from + i]);
		i = blocked(s, lc, len);
		if (lc != low)
			free(lc);
		lc = low;
		if (!i)
			return SQIDS_OK;
	}
	out->len = from;
	if (out->data != NULL)
		out->data[from] = '\0';
	return increment > s->len ? SQIDS_EATTEMPTS : SQIDS_ENOMEM;
}

/* ---- decoding --------------------------------------------------------- */

static enum sqids_rc
to_number(const char *id, size_t n, const unsigned char *a, size_t len,
    uint64_t *out)
{
	uint64_t	 v = 0, d;
	size_t		 i;

	for (i = 0; i < n; i++) {
		d = (uint64_t)((const unsigned char *)memchr(a,
		    (unsigned char)id[i], len) - a);
		if (v > (UINT64_MAX - d) / len)
			return SQIDS_ERANGE;
		v = v * len + d;
	}
	*out = v;
	return SQIDS_OK;
}

enum sqids_rc
sqids_decode(const struct sqids *s, const char *id, size_t len,
    uint64_t *nums, size_t *n)
{
	unsigned char	 a[ALPHABET_MAX];
	const unsigned char *p;
	const char	*sep;
	size_t		 k = s->len, off, i, end;

	*n = 0;
	for (i = 0; i < len; i++)
		if (memchr(s->alphabet, (unsigned char)id[i], k) == NULL)
			return SQIDS_OK;
	if (len == 0)
		return SQIDS_OK;
	p = memchr(s->alphabet, (unsigned char)id[0], k);
	off = (size_t)(p - s->alphabet);
	for (i = 0; i < k; i++)			/* rotated and reversed */
		a[k - 1 - i] = s->alphabet[(off + i) % k];
	/* Each chunk ends at the first separator, a[0], or at the end. */
	for (i = 1; i < len; i = end + 1) {
		sep = memchr(id + i, a[0], len - i);
		end = sep != NULL ? (size_t)(sep - id) : len;
		if (end == i)
			break;
		if (to_number(id + i, end - i, a + 1, k - 1, &nums[*n]) !=
		    SQIDS_OK) {
			*n = 0;
			return SQIDS_ERANGE;
		}
		(*n)++;
		if (end < len)
			shuffle(a, k);
	}
	return SQIDS_OK;
}
