package dev.ferry.moe.chat;

/**
 * Rewrites the Jinja2 a chat template is written in into Jinja that Jinjava reads the same way:
 * <ul>
 *   <li>whitespace control ({@code {{-}, {@code -}}}, {@code {%-}, {@code -%}}, {@code {#-},
 *       {@code -#}}): the whitespace is removed here and the plain delimiter kept, because
 *       Jinjava ignores the dash on expression tags;</li>
 *   <li>keyword arguments in calls get their value parenthesised ({@code namespace(i=n|length - 1)}
 *       becomes {@code namespace(i=(n|length - 1))}): Jinjava binds {@code =} tighter than
 *       arithmetic;</li>
 *   <li>the reversed slice {@code [::-1]}, which Jinjava cannot parse, becomes {@code |reverse};</li>
 *   <li>"}}" closing nested dict literals inside an expression gets a space, since Jinjava's
 *       lexer, unlike Jinja2's, does not balance braces.</li>
 * </ul>
 * Text outside tags and string literals inside tags are copied unchanged.
 */
final class TemplateRewriter {

    private TemplateRewriter() {
    }

    static String rewrite(String template) {
        StringBuilder out = new StringBuilder(template.length() + 64);
        int i = 0;
        int n = template.length();
        while (i < n) {
            int open = nextOpener(template, i);
            if (open < 0) {
                out.append(template, i, n);
                break;
            }
            out.append(template, i, open);
            char kind = template.charAt(open + 1);
            int bodyStart = open + 2;
            if (bodyStart < n && template.charAt(bodyStart) == '-') {
                trimTrailingWhitespace(out);
                bodyStart++;
            }
            String closer = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            int close = findCloser(template, bodyStart, closer, kind != '#');
            if (close < 0) {
                // unterminated tag: leave the rest for Jinjava to report
                out.append(template, open, n);
                break;
            }
            int bodyEnd = close;
            boolean trimAfter = bodyEnd > bodyStart && template.charAt(bodyEnd - 1) == '-';
            if (trimAfter) {
                bodyEnd--;
            }
            String body = template.substring(bodyStart, bodyEnd);
            out.append('{').append(kind);
            if (kind == '#') {
                out.append(body);
            } else {
                boolean macro = kind == '%' && body.strip().startsWith("macro ");
                out.append(rewriteExpression(body, !macro));
            }
            out.append(closer);
            i = close + 2;
            if (trimAfter) {
                while (i < n && Character.isWhitespace(template.charAt(i))) {
                    i++;
                }
            }
        }
        return out.toString();
    }

    private static int nextOpener(String s, int from) {
        for (int i = from; i + 1 < s.length(); i++) {
            if (s.charAt(i) == '{') {
                char c = s.charAt(i + 1);
                if (c == '{' || c == '%' || c == '#') {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * The closer's position. In expression tags string literals are skipped and braces balanced,
     * as Jinja2's lexer does, so {@code {{ {'a': {}} }}} ends at the last "}}".
     */
    private static int findCloser(String s, int from, String closer, boolean expression) {
        char quote = 0;
        int braces = 0;
        for (int i = from; i + 1 < s.length(); i++) {
            char c = s.charAt(i);
            if (quote != 0) {
                if (c == '\\') {
                    i++;
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            if (expression && (c == '\'' || c == '"')) {
                quote = c;
            } else if (braces == 0 && c == closer.charAt(0) && s.charAt(i + 1) == closer.charAt(1)) {
                return i;
            } else if (expression && c == '{') {
                braces++;
            } else if (expression && c == '}' && braces > 0) {
                braces--;
            }
        }
        return -1;
    }

    private static void trimTrailingWhitespace(StringBuilder out) {
        int end = out.length();
        while (end > 0 && Character.isWhitespace(out.charAt(end - 1))) {
            end--;
        }
        out.setLength(end);
    }

    /** Parenthesises keyword-argument values and replaces [::-1], outside string literals. */
    static String rewriteExpression(String body, boolean wrapKeywordArguments) {
        StringBuilder out = new StringBuilder(body.length() + 16);
        // per open bracket: whether a keyword value is open at that level and needs a ')'
        boolean[] valueOpen = new boolean[body.length() + 1];
        char[] bracket = new char[body.length() + 1];
        int depth = 0;
        char quote = 0;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (quote != 0) {
                out.append(c);
                if (c == '\\' && i + 1 < body.length()) {
                    out.append(body.charAt(++i));
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            switch (c) {
                case '\'', '"' -> {
                    quote = c;
                    out.append(c);
                }
                case '(', '[', '{' -> {
                    if (c == '[' && body.startsWith("[::-1]", i)) {
                        out.append("|reverse");
                        i += 5;
                        continue;
                    }
                    depth++;
                    bracket[depth] = c;
                    valueOpen[depth] = false;
                    out.append(c);
                }
                case ')', ']', '}' -> {
                    if (depth > 0 && valueOpen[depth]) {
                        out.append(')');
                        valueOpen[depth] = false;
                    }
                    depth = Math.max(0, depth - 1);
                    // Jinjava's lexer would end the tag at "}}" inside a dict literal
                    if (c == '}' && !out.isEmpty() && out.charAt(out.length() - 1) == '}') {
                        out.append(' ');
                    }
                    out.append(c);
                }
                case ',' -> {
                    if (depth > 0 && valueOpen[depth]) {
                        out.append(')');
                        valueOpen[depth] = false;
                    }
                    out.append(c);
                }
                case '=' -> {
                    boolean keyword = wrapKeywordArguments && depth > 0 && bracket[depth] == '('
                            && isPlainAssign(body, i) && precededByName(out);
                    out.append(c);
                    if (keyword) {
                        out.append('(');
                        valueOpen[depth] = true;
                    }
                }
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** A lone '=', not part of ==, !=, <= or >=. */
    private static boolean isPlainAssign(String s, int i) {
        char before = i > 0 ? s.charAt(i - 1) : ' ';
        char after = i + 1 < s.length() ? s.charAt(i + 1) : ' ';
        return after != '=' && before != '=' && before != '!' && before != '<' && before != '>';
    }

    /** Whether the text so far ends with "name" or "name " right after '(' or ','. */
    private static boolean precededByName(StringBuilder out) {
        int i = out.length() - 1;
        while (i >= 0 && out.charAt(i) == ' ') {
            i--;
        }
        int end = i;
        while (i >= 0 && (Character.isLetterOrDigit(out.charAt(i)) || out.charAt(i) == '_')) {
            i--;
        }
        if (i == end) {
            return false;
        }
        while (i >= 0 && out.charAt(i) == ' ') {
            i--;
        }
        return i >= 0 && (out.charAt(i) == '(' || out.charAt(i) == ',');
    }
}
