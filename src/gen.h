/*
 * gen.h: the ID generators behind POST /.
 *
 * One file per flavour (gen_uuid.c, gen_nanoid.c, ...), each exporting one
 * `const struct generator`: its name, its options as data, flags, and
 * generate().  All are listed in the table in gen.c.  Generators do no
 * I/O: randomness comes from libsodium, time from clock.h, and the
 * options arrive already read and checked (gen_args) from a JSON or form
 * body, or from a test.
 */
#ifndef IDMINT_GEN_H
#define IDMINT_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "response.h"		/* enum status */

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

/* Look a field up; kind FIELD_ABSENT when missing. */
void	 param_get(const struct params *, const char *, struct field *);

/* ---- options as data -------------------------------------------------- */

enum gopt_kind {
	GOPT_NONE,	/* an unused row */
	/*
	 * A whole number (JSON integer or decimal digits) from min to max;
	 * def when absent, unless required.  The messages are the spec's
	 * for `length`, with the option's name: "Please specify the length",
	 * "Length must be a whole number of at least 1", "Length too large,
	 * please use a smaller number".
	 */
	GOPT_INT,
	/*
	 * One of choices (NULL-terminated), the first when absent; anything
	 * else is `bad`.  With `numeric`, a JSON integer or digits with
	 * leading zeros name a choice too (uuid's version 4, "4", "04").
	 */
	GOPT_CHOICE,
	GOPT_TEXT	/* the field as sent; the generator checks it */
};

struct gopt {
	const char	*name;
	enum gopt_kind	 kind;
	int64_t		 min, max, def;	/* GOPT_INT */
	int		 required;	/* GOPT_INT */
	const char *const *choices;	/* GOPT_CHOICE */
	int		 numeric;	/* GOPT_CHOICE */
	const char	*bad;		/* GOPT_CHOICE: the message */
};

#define GEN_OPTS_MAX	2

/* The options' values, row for row. */
struct gen_args {
	int64_t		 num[GEN_OPTS_MAX];	/* GOPT_INT: the value;
						   GOPT_CHOICE: the index */
	struct field	 field[GEN_OPTS_MAX];	/* GOPT_TEXT */
};

/* The result of one generate() call. */
struct gen_result {
	struct buf	 id;		/* the "id" value */
	struct buf	 priv;		/* "privateID" (keypair only), else empty */
	const char	*error;		/* message when status != 200 */
	struct buf	 errbuf;	/* storage when error must be built */
};

#define GEN_NEEDS_SLOT	0x1	/* the process must hold a snowflake slot */

struct generator {
	const char	*name;
	/* HTTP_OK with res->id filled, else 400/503 with res->error set
	 * to the spec's exact message. */
	enum status	(*generate)(const struct gen_args *,
			    struct gen_result *);
	struct gopt	 opts[GEN_OPTS_MAX];
	unsigned	 flags;
};

/*
 * Read and check g's options from p, in the order of its rows.  HTTP_OK
 * with *a filled, else HTTP_BAD_REQUEST with res->error set.
 */
enum status	 gen_args(const struct generator *, const struct params *,
		    struct gen_args *, struct gen_result *);
/* One option row on its own: *num for GOPT_INT and GOPT_CHOICE, *text
 * for GOPT_TEXT; the same messages as gen_args. */
enum status	 gen_opt(const struct gopt *, const struct params *,
		    int64_t *num, struct field *text, struct gen_result *);

void	 gen_result_init(struct gen_result *);
/* Empty a result for the next request, keeping its memory. */
void	 gen_result_reset(struct gen_result *);
/* Frees; a secret key in priv is wiped first. */
void	 gen_result_free(struct gen_result *);

/* For the generators: set the message and return the status. */
enum status	 gen_error(struct gen_result *, enum status, const char *msg);
/* HTTP_OK, or HTTP_UNAVAILABLE if building the output ran out of memory. */
enum status	 gen_done(struct gen_result *);
/* n values uniform in [0, range), 2 <= range <= 256, without bias. */
void	 gen_uniform(unsigned char *out, size_t n, unsigned range);

/* The word list, generated from data/ by scripts/gen-words (words.c). */
extern const char *const gen_wordlist[];
extern const size_t gen_nwords;

/* The table, NULL-terminated; and lookup by exact name ("word" aliases). */
extern const struct generator *const generators[];
const struct generator *gen_find(const char *name, size_t len);

/* The snowflake layout: 41 bits of ms since the epoch, 10 of worker id
 * (node_id, then the process slot), 12 of sequence. */
#define SNOWFLAKE_TIME_BITS	41
#define SNOWFLAKE_WORKER_BITS	10
#define SNOWFLAKE_SEQ_BITS	12

/* Process-wide state set once at start-up. */
struct gen_setup {
	uint64_t	 snowflake_epoch_ms;	/* default 1288834974657 */
	uint32_t	 worker_id;		/* 10 bits: node_id << slot_bits | slot */
	unsigned char	 fingerprint[32];	/* host fingerprint for cuid */
};
extern struct gen_setup gen_setup;
/* Snowflakes this process refused because the clock stepped back. */
extern uint64_t gen_clock_back;
/* After sodium_init() and after fork: the fingerprint names the process. */
void	 gen_setup_default(void);

/*
 * The millisecond of the last snowflake this process issued (0: none);
 * and the one a slot's last holder issued, below which this process
 * issues none (a clock stepped back waits, or is refused).
 */
uint64_t gen_snowflake_last(void);
/* As a new process starts: no snowflake issued yet (gen_setup_default). */
void	 gen_snowflake_reset(void);
void	 gen_snowflake_floor(uint64_t ms);

extern const struct generator gen_uuid, gen_nanoid, gen_2fa, gen_license,
	    gen_words, gen_snowflake, gen_keypair, gen_cuid;

#endif
