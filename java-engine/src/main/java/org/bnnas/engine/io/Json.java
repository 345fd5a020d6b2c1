// Json: the JSON subset a safetensors header uses (objects, arrays, strings, integers), read
// strictly, and the string quoting that the header writer and the error messages share.
package org.bnnas.engine.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict reader for the JSON a safetensors header holds: objects (as LinkedHashMap, in document
 * order, duplicate keys refused), arrays (List), strings with every escape, and integers (Long).
 * Fractions, exponents, true, false and null are refused, since no header has them. Whitespace
 * is JSON's: space, tab, newline and carriage return. Errors are IllegalArgumentExceptions with a
 * one-line message saying what was expected where ("... at character N", N counting UTF-16 units
 * from 0).
 */
final class Json {
    private static final int MAX_DEPTH = 64; // a header nests 3 deep; bounds recursion on hostile input
    private final String s;
    private int pos;

    private Json(String s) {
        this.s = s;
    }

    /** The value {@code text} holds, with nothing but whitespace around it. */
    static Object parse(String text) {
        Json reader = new Json(text);
        Object v = reader.value(0);
        reader.skipSpace();
        if (reader.pos < text.length()) throw reader.error("unexpected content after the top-level value");
        return v;
    }

    /** {@code s} as a JSON string literal; also used in messages, so that they stay on one line. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) throw error("nesting deeper than " + MAX_DEPTH);
        skipSpace();
        if (pos >= s.length()) throw error("unexpected end");
        char c = s.charAt(pos);
        if (c == '{') return object(depth);
        if (c == '[') return array(depth);
        if (c == '"') return string();
        if (c == '-' || (c >= '0' && c <= '9')) return integer();
        throw error("unexpected character " + printable(c));
    }

    private Map<String, Object> object(int depth) {
        Map<String, Object> out = new LinkedHashMap<>();
        pos++; // '{'
        skipSpace();
        if (peek() == '}') {
            pos++;
            return out;
        }
        while (true) {
            skipSpace();
            if (peek() != '"') throw error("expected a string key");
            String key = string();
            skipSpace();
            expect(':');
            if (out.put(key, value(depth + 1)) != null) throw error("duplicate key " + quote(key));
            skipSpace();
            if (peek() == ',') pos++;
            else if (peek() == '}') {
                pos++;
                return out;
            } else throw error("expected ',' or '}'");
        }
    }

    private List<Object> array(int depth) {
        List<Object> out = new ArrayList<>();
        pos++; // '['
        skipSpace();
        if (peek() == ']') {
            pos++;
            return out;
        }
        while (true) {
            out.add(value(depth + 1));
            skipSpace();
            if (peek() == ',') pos++;
            else if (peek() == ']') {
                pos++;
                return out;
            } else throw error("expected ',' or ']'");
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) throw error("unterminated string");
            char c = s.charAt(pos++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in string");
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= s.length()) throw error("unterminated string");
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    // A surrogate pair arrives as two escapes, each appended as its UTF-16 unit.
                    if (pos + 4 > s.length()) throw error("short \\u escape");
                    try {
                        b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("bad \\u escape");
                    }
                    pos += 4;
                }
                default -> throw error("bad escape " + printable('\\', e));
            }
        }
    }

    private Long integer() {
        int start = pos;
        if (peek() == '-') pos++;
        int digits = pos;
        while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') pos++;
        if (pos == digits) throw error("expected a digit");
        if (s.charAt(digits) == '0' && pos - digits > 1) throw error("leading zero in number");
        char next = peek();
        if (next == '.' || next == 'e' || next == 'E') throw error("only integers are allowed");
        try {
            return Long.parseLong(s.substring(start, pos));
        } catch (NumberFormatException x) {
            throw error("integer out of range");
        }
    }

    private void expect(char c) {
        if (peek() != c) throw error("expected '" + c + "'");
        pos++;
    }

    /** The current character, or 0 at the end. */
    private char peek() {
        return pos < s.length() ? s.charAt(pos) : 0;
    }

    private void skipSpace() {
        while (pos < s.length()) {
            char c = s.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
            pos++;
        }
    }

    /** The characters in single quotes, a control character as its \\u escape, so that a message stays on one line. */
    private static String printable(char... cs) {
        StringBuilder b = new StringBuilder("'");
        for (char c : cs) {
            if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('\'').toString();
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException(what + " at character " + pos);
    }
}
