package dev.ferry.moe.plan;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One tensor-buffer override: tensors whose name contains a match of {@code regex} (a search,
 * not a whole-name match, as llama.cpp's {@code std::regex_search}) go to {@code target}.
 *
 * @param pattern the regex text as the user wrote it
 * @param source the flag that made the rule, for reports (e.g. {@code -ot}, {@code --cpu-moe})
 */
public record OverrideRule(String pattern, Pattern regex, BufferTarget target, String source) {

    public OverrideRule {
        Objects.requireNonNull(pattern, "pattern");
        Objects.requireNonNull(regex, "regex");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(source, "source");
    }

    /** Compiles {@code pattern}; a syntax error names the flag and the pattern. */
    public static OverrideRule of(String flag, String pattern, BufferTarget target) {
        try {
            return new OverrideRule(pattern, Pattern.compile(pattern), target, flag);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw new IllegalArgumentException(flag + ": '" + pattern + "' is not a valid regular expression: "
                    + e.getDescription() + " near index " + e.getIndex());
        }
    }

    public boolean matches(String tensorName) {
        return regex.matcher(tensorName).find();
    }

    /** {@code exps=CPU (-ot)}. */
    public String describe() {
        return pattern + "=" + target + " (" + source + ")";
    }
}
