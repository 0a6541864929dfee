/*
 * gen.h: the ID generators behind POST /.
 *
 * One file per flavour (gen_uuid.c, gen_nanoid.c, ...), each exporting one
 * `const struct generator`, all listed in the table in gen.c.  Generators
 * do no I/O: randomness comes from libsodium, time from gen_setup, and the
 * options from a `struct params` that the caller fills from a JSON or form
 * body (or a test fills by hand).
 */
#ifndef IDMINT_GEN_H
#define IDMINT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* What one request field looked like in the body. */
enum field_kind {
	FIELD_ABSENT,
	FIELD_STRING,	/* str/len set; every form value is a string */
	FIELD_INT,	/* JSON integer; ival set */
	FIELD_OTHER	/* JSON float, bool, null, array, object */
};

struct field {
	enum field_kind	 kind;
	const char	*str;
	size_t		 len;
	int64_t		 ival;
};

/* Read-only access to the request's fields by name. */
struct params {
	void	(*get)(const struct params *, const char *name, struct field *);
	void	*ctx;
};

/* The result of one generate() call. */
struct gen_result {
	struct buf	 id;		/* the "id" value */
	struct buf	 priv;		/* "privateID" (keypair only), else empty */
	const char	*error;		/* message when status != 200 */
	struct buf	 errbuf;	/* storage when error must be built */
};

struct generator {
	const char	*name;
	/* Returns an HTTP status: 200 with res->id filled, else 400/503
	 * (500 when memory runs out) with res->error set to the spec's
	 * exact message. */
	int		(*generate)(const struct params *, struct gen_result *);
};

/*
 * Shared option parsing, with the spec's exact messages.  Returns 200 with
 * *out set (def when the field is absent and not required), else 400 (or
 * 500) with res->error set, so a generator can return the status as is.
 */
int	 param_length(const struct params *, const char *name, int64_t min,
	    int64_t max, int64_t def, int required, int64_t *out,
	    struct gen_result *);
/* Look a field up; kind FIELD_ABSENT when missing. */
void	 param_get(const struct params *, const char *, struct field *);

void	 gen_result_init(struct gen_result *);
/* Empty a result for the next request, keeping its memory. */
void	 gen_result_reset(struct gen_result *);
/* Frees; a secret key in priv is wiped first. */
void	 gen_result_free(struct gen_result *);

/* For the generators: set the message and return the status. */
int	 gen_error(struct gen_result *, int status, const char *msg);
/* 200, or 500 if building the output ran out of memory. */
int	 gen_done(struct gen_result *);
/* n values uniform in [0, range), 2 <= range <= 256, without bias. */
void	 gen_uniform(unsigned char *out, size_t n, unsigned range);

/* The word list, generated from data/ by scripts/gen-words (words.c). */
extern const char *const gen_wordlist[];
extern const size_t gen_nwords;

/* The table, NULL-terminated; and lookup by exact name ("word" aliases). */
extern const struct generator *const generators[];
const struct generator *gen_find(const char *name, size_t len);

/*
 * Process-wide state set once at start-up.  The clock is a pointer so
 * tests can step it; it returns milliseconds since the Unix epoch.
 */
struct gen_setup {
	uint64_t	 snowflake_epoch_ms;	/* default 1288834974657 */
	uint32_t	 worker_id;		/* 10 bits: node_id << slot_bits | slot */
	uint64_t	(*clock_ms)(void);
	void		(*sleep_ms)(unsigned);	/* wait in snowflake/v7 */
	unsigned char	 fingerprint[32];	/* host fingerprint for cuid */
};
extern struct gen_setup gen_setup;
void	 gen_setup_default(void);

extern const struct generator gen_uuid, gen_nanoid, gen_2fa, gen_license,
	    gen_words, gen_snowflake, gen_keypair, gen_cuid;

#endif
