/* Tokens shared by the tokenizer (tmpl_lex.c) and the parser
 * (tmpl_parse.c). Internal to src/tmpl/. */
#ifndef IG_TMPL_LEX_H
#define IG_TMPL_LEX_H

#include "tmpl_int.h"

enum {
    TK_EOF = 0, TK_DATA, TK_VAR_BEGIN, TK_VAR_END, TK_BLOCK_BEGIN, TK_BLOCK_END,
    TK_NAME, TK_STRING, TK_INT, TK_FLOAT, TK_OP
};

/* two-character operators (single ones use their character) */
enum { TK_FLOORDIV = 256, TK_POW, TK_EQ, TK_NE, TK_LE, TK_GE };

typedef struct tok {
    int type;
    int op;       /* TK_OP */
    int line, col;
    const char *p; /* where it starts in the source */
    tstr *s;      /* TK_DATA, TK_NAME, TK_STRING: immortal, in the arena */
    int64_t i;
    double f;
} tok;

/* Tokenize t->src. *out is malloc'd (caller frees); strings go in arena. */
ig_rc ig__tmpl_lex(const ig_tmpl *t, tarena *arena, tok **out, size_t *nout, ig_error *err);
/* An immortal string in the arena (hash computed). */
tstr *ig__tmpl_istr(tarena *a, const char *s, size_t n);

#endif
