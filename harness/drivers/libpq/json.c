/* See json.h. Enough JSON for a config of a few hundred bytes: no streaming, no limits beyond memory. */
#include "json.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *p;
  const char *error;
  int depth;
} parser;

static jvalue *parse_value(parser *s);

static void skip_space(parser *s) {
  while (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r') s->p++;
}

static jvalue *make(jtype type) {
  jvalue *v = calloc(1, sizeof *v);
  if (v) v->type = type;
  return v;
}

static int hex4(const char *p, unsigned *out) {
  unsigned value = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    value <<= 4;
    if (c >= '0' && c <= '9') value |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') value |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') value |= (unsigned)(c - 'A' + 10);
    else return 0;
  }
  *out = value;
  return 1;
}

static void put_utf8(char **o, unsigned cp) {
  if (cp < 0x80) *(*o)++ = (char)cp;
  else if (cp < 0x800) { *(*o)++ = (char)(0xC0 | (cp >> 6)); *(*o)++ = (char)(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) {
    *(*o)++ = (char)(0xE0 | (cp >> 12)); *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *(*o)++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *(*o)++ = (char)(0xF0 | (cp >> 18)); *(*o)++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *(*o)++ = (char)(0x80 | (cp & 0x3F));
  }
}

/* A string literal at s->p (on its opening quote); the decoded text, or NULL. */
static char *parse_string(parser *s) {
  const char *p = s->p + 1;
  /* Decoded text is never longer than the literal. */
  const char *end = p;
  while (*end && *end != '"') end += (*end == '\\' && end[1]) ? 2 : 1;
  if (*end != '"') { s->error = "unterminated string"; return NULL; }
  char *out = malloc((size_t)(end - p) + 1), *o = out;
  if (!out) { s->error = "out of memory"; return NULL; }
  while (p < end) {
    if ((unsigned char)*p < 0x20) { s->error = "control character in a string"; free(out); return NULL; }
    if (*p != '\\') { *o++ = *p++; continue; }
    p++;
    switch (*p++) {
      case '"': *o++ = '"'; break;
      case '\\': *o++ = '\\'; break;
      case '/': *o++ = '/'; break;
      case 'b': *o++ = '\b'; break;
      case 'f': *o++ = '\f'; break;
      case 'n': *o++ = '\n'; break;
      case 'r': *o++ = '\r'; break;
      case 't': *o++ = '\t'; break;
      case 'u': {
        unsigned cp, low;
        if (p + 4 > end || !hex4(p, &cp)) { s->error = "bad \\u escape"; free(out); return NULL; }
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && p + 6 <= end && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &low) && low >= 0xDC00 &&
            low < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          p += 6;
        }
        put_utf8(&o, cp);
        break;
      }
      default: s->error = "bad escape"; free(out); return NULL;
    }
  }
  *o = '\0';
  s->p = end + 1;
  return out;
}

static int append(jvalue *v, char *key, jvalue *item) {
  jvalue **items = realloc(v->items, (v->count + 1) * sizeof *items);
  if (!items) return 0;
  v->items = items;
  if (v->type == J_OBJECT) {
    char **keys = realloc(v->keys, (v->count + 1) * sizeof *keys);
    if (!keys) return 0;
    v->keys = keys;
    v->keys[v->count] = key;
  }
  v->items[v->count++] = item;
  return 1;
}

static jvalue *parse_container(parser *s, jtype type) {
  char close = type == J_OBJECT ? '}' : ']';
  jvalue *v = make(type);
  if (!v) return NULL;
  s->p++;
  skip_space(s);
  if (*s->p == close) { s->p++; return v; }
  for (;;) {
    char *key = NULL;
    skip_space(s);
    if (type == J_OBJECT) {
      if (*s->p != '"') { s->error = "expected a key"; break; }
      if (!(key = parse_string(s))) break;
      skip_space(s);
      if (*s->p != ':') { s->error = "expected ':'"; free(key); break; }
      s->p++;
    }
    jvalue *item = parse_value(s);
    if (!item) { free(key); break; }
    if (!append(v, key, item)) { s->error = "out of memory"; free(key); json_free(item); break; }
    skip_space(s);
    if (*s->p == ',') { s->p++; continue; }
    if (*s->p == close) { s->p++; return v; }
    s->error = type == J_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'";
    break;
  }
  json_free(v);
  return NULL;
}

static jvalue *parse_value(parser *s) {
  skip_space(s);
  if (++s->depth > 32) { s->error = "nested too deeply"; return NULL; }
  jvalue *v = NULL;
  char c = *s->p;
  if (c == '{') v = parse_container(s, J_OBJECT);
  else if (c == '[') v = parse_container(s, J_ARRAY);
  else if (c == '"') {
    char *text = parse_string(s);
    if (text && (v = make(J_STRING))) v->string = text;
    else free(text);
  } else if (!strncmp(s->p, "true", 4) || !strncmp(s->p, "false", 5)) {
    if ((v = make(J_BOOL))) v->boolean = c == 't';
    s->p += c == 't' ? 4 : 5;
  } else if (!strncmp(s->p, "null", 4)) {
    v = make(J_NULL);
    s->p += 4;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    char *end;
    double number = strtod(s->p, &end);
    if (end == s->p) s->error = "bad number";
    else if ((v = make(J_NUMBER))) { v->number = number; s->p = end; }
  } else s->error = "unexpected character";
  s->depth--;
  return v;
}

jvalue *json_parse(const char *text, const char **error) {
  parser s = {text, NULL, 0};
  jvalue *v = parse_value(&s);
  if (v) {
    skip_space(&s);
    if (*s.p) { json_free(v); v = NULL; s.error = "text after the value"; }
  }
  if (!v && error) *error = s.error ? s.error : "out of memory";
  return v;
}

void json_free(jvalue *v) {
  if (!v) return;
  for (size_t i = 0; i < v->count; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->string);
  free(v);
}

const jvalue *json_get(const jvalue *object, const char *key) {
  if (!object || object->type != J_OBJECT) return NULL;
  for (size_t i = 0; i < object->count; i++)
    if (!strcmp(object->keys[i], key)) return object->items[i];
  return NULL;
}

const char *json_string(const jvalue *object, const char *key, const char *fallback) {
  const jvalue *v = json_get(object, key);
  return v && v->type == J_STRING ? v->string : fallback;
}

double json_number(const jvalue *object, const char *key, double fallback) {
  const jvalue *v = json_get(object, key);
  return v && v->type == J_NUMBER ? v->number : fallback;
}

static void reserve(jbuf *b, size_t more) {
  if (b->length + more + 1 <= b->capacity) return;
  size_t capacity = b->capacity ? b->capacity : 256;
  while (capacity < b->length + more + 1) capacity *= 2;
  char *data = realloc(b->data, capacity);
  if (!data) abort();
  b->data = data;
  b->capacity = capacity;
}

void jb_raw(jbuf *b, const char *text) {
  size_t n = strlen(text);
  reserve(b, n);
  memcpy(b->data + b->length, text, n + 1);
  b->length += n;
}

void jb_printf(jbuf *b, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int n = vsnprintf(NULL, 0, format, args);
  va_end(args);
  if (n < 0) return;
  reserve(b, (size_t)n);
  va_start(args, format);
  vsnprintf(b->data + b->length, (size_t)n + 1, format, args);
  va_end(args);
  b->length += (size_t)n;
}

void jb_string(jbuf *b, const char *text) {
  reserve(b, strlen(text) * 6 + 2);
  char *o = b->data + b->length;
  *o++ = '"';
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') { *o++ = '\\'; *o++ = (char)*p; }
    else if (*p == '\n') { *o++ = '\\'; *o++ = 'n'; }
    else if (*p == '\r') { *o++ = '\\'; *o++ = 'r'; }
    else if (*p == '\t') { *o++ = '\\'; *o++ = 't'; }
    else if (*p < 0x20 || *p == 0x7F) o += sprintf(o, "\\u%04x", *p);
    else *o++ = (char)*p;
  }
  *o++ = '"';
  *o = '\0';
  b->length = (size_t)(o - b->data);
}

void jb_key(jbuf *b, const char *key) {
  if (b->length > 0 && b->data[b->length - 1] != '{') jb_raw(b, ",");
  jb_string(b, key);
  jb_raw(b, ":");
}
