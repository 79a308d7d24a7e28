/* A minimal JSON reader (the agent's config and its stdin commands) and writer (its stdout lines). */
#ifndef PGDRILL_JSON_H
#define PGDRILL_JSON_H
#include <stddef.h>

typedef enum { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jvalue {
  jtype type;
  double number;
  int boolean;
  char *string;            /* J_STRING: the decoded text (UTF-8) */
  struct jvalue **items;   /* J_ARRAY, J_OBJECT: the values */
  char **keys;             /* J_OBJECT: the keys */
  size_t count;
} jvalue;

/* Parses text; NULL and *error set (a static message) when it is not JSON. */
jvalue *json_parse(const char *text, const char **error);
void json_free(jvalue *value);
/* The member `key` of an object, or NULL. */
const jvalue *json_get(const jvalue *object, const char *key);
/* Typed getters: the fallback when absent or of another type. */
const char *json_string(const jvalue *object, const char *key, const char *fallback);
double json_number(const jvalue *object, const char *key, double fallback);

/* A growing output buffer for one line. */
typedef struct {
  char *data;
  size_t length, capacity;
} jbuf;

void jb_raw(jbuf *b, const char *text);
void jb_printf(jbuf *b, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included: escapes ", \ and control characters. */
void jb_string(jbuf *b, const char *text);
/* ,"key":"value" (the comma unless it follows "{"). */
void jb_key(jbuf *b, const char *key);
#endif
