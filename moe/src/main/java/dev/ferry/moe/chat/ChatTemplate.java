package dev.ferry.moe.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.interpret.TemplateSyntaxException;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import dev.ferry.loader.tokenizer.Tokenizer;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jinjava.javax.el.CompositeELResolver;

/**
 * A model's Jinja chat template ({@code tokenizer.chat_template}) rendered with Jinjava the way
 * Hugging Face's apply_chat_template renders it: trim_blocks and lstrip_blocks on, variables
 * {@code messages}, {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the
 * function {@code raise_exception}.
 *
 * <p>Where Jinjava differs from Python Jinja2 this class bridges it: Python string and dict
 * methods ({@code startswith}, {@code endswith}, {@code strip}/{@code lstrip}/{@code rstrip},
 * {@code split}/{@code rsplit} with Python semantics, {@code items}, {@code get}, ...) come from a
 * resolver placed before Jinjava's own; {@code tojson} writes JSON as Python's json.dumps does
 * (", " and ": " separators, {@code indent=}); the {@code items} filter, the {@code strftime_now}
 * function and {@code is iterable} for strings are added; and {@link TemplateRewriter} turns
 * whitespace control, keyword arguments and {@code [::-1]} into forms Jinjava reads as Jinja2 does.
 * Variable values are never interpreted as template code.
 */
public final class ChatTemplate {

    /** ChatML, used when a model carries no template (llama.cpp's fallback as well). */
    public static final String CHATML = "{%- for message in messages %}"
            + "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
            + "{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

    private final String source;
    private final String template;
    private final String jinjavaTemplate;
    private final String bosToken;
    private final String eosToken;
    private final boolean fallback;
    private final List<String> warnings;
    private final Jinjava jinjava;

    private ChatTemplate(String source, String template, String bosToken, String eosToken, boolean fallback,
                         List<String> warnings) {
        this.source = source;
        this.template = template;
        this.jinjavaTemplate = TemplateRewriter.rewrite(template);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.fallback = fallback;
        this.warnings = Collections.unmodifiableList(new ArrayList<>(warnings));
        this.jinjava = newJinjava();
        // render a one-line conversation up front so a template that does not parse fails when loaded;
        // only syntax errors count here (Jinjava parses loop bodies lazily, so some show at render time)
        RenderResult probe = jinjava.renderForResult(jinjavaTemplate, Map.of(
                "messages", List.of(Map.of("role", "user", "content", "probe")),
                "add_generation_prompt", true, "bos_token", bosToken, "eos_token", eosToken));
        for (TemplateError e : probe.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL && e.getException() instanceof TemplateSyntaxException
                    && raisedMessage(e) == null) {
                throw new IllegalArgumentException(source + ": chat template does not parse: " + describe(e));
            }
        }
    }

    /** A template with the BOS and EOS token texts it refers to. */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return new ChatTemplate("chat template", template, bosToken, eosToken, false, List.of());
    }

    /**
     * The template stored with a tokenizer, or ChatML with a warning when the model has none.
     * BOS and EOS come from the tokenizer's special tokens.
     */
    public static ChatTemplate forTokenizer(Tokenizer tokenizer) {
        String bos = tokenizer.bos() == Tokenizer.NONE ? "" : tokenizer.tokenText(tokenizer.bos());
        String eos = tokenizer.eos() == Tokenizer.NONE ? "" : tokenizer.tokenText(tokenizer.eos());
        return tokenizer.chatTemplate()
                .map(t -> new ChatTemplate(Tokenizer.KEY_CHAT_TEMPLATE, t, bos, eos, false, List.of()))
                .orElseGet(() -> new ChatTemplate("ChatML fallback", CHATML, bos, eos, true, List.of(
                        "the model has no chat template (" + Tokenizer.KEY_CHAT_TEMPLATE + "), using ChatML")));
    }

    /** The prompt text for a conversation. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * The prompt text for a conversation, with extra template variables (for example
     * {@code enable_thinking=false} for Qwen3).
     *
     * @throws IllegalArgumentException when the template raises an exception or fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extraVariables) {
        Map<String, Object> context = new HashMap<>(extraVariables);
        List<Map<String, Object>> list = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            Map<String, Object> message = new LinkedHashMap<>();
            message.put("role", m.role());
            message.put("content", m.content());
            list.add(message);
        }
        context.put("messages", list);
        context.put("add_generation_prompt", addGenerationPrompt);
        context.put("bos_token", bosToken);
        context.put("eos_token", eosToken);
        RenderResult result = jinjava.renderForResult(jinjavaTemplate, context);
        List<String> fatal = new ArrayList<>();
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                fatal.add(describe(e));
            }
        }
        if (!fatal.isEmpty()) {
            throw new IllegalArgumentException(source + ": rendering the chat template failed: "
                    + String.join("; ", fatal));
        }
        return result.getOutput();
    }

    /**
     * Renders and tokenizes a conversation: special tokens in the rendered text are parsed, and
     * BOS is added only where the model wants it and the template has not written it already.
     */
    public int[] encode(Tokenizer tokenizer, List<ChatMessage> messages, boolean addGenerationPrompt) {
        String text = render(messages, addGenerationPrompt);
        boolean hasBos = !bosToken.isEmpty() && text.startsWith(bosToken);
        return tokenizer.encode(text, !hasBos, true);
    }

    /** Whether this is the ChatML fallback for a model without a template. */
    public boolean isFallback() {
        return fallback;
    }

    public String template() {
        return template;
    }

    /** Problems to tell the user about, such as the ChatML fallback. */
    public List<String> warnings() {
        return warnings;
    }

    // ---------------------------------------------------------------- Jinjava setup

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(true)
                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withElResolver(resolver)
                .withMaxOutputSize(64L << 20)
                .build();
        Jinjava j = new Jinjava(config);
        var globals = j.getGlobalContext();
        try {
            globals.registerFunction(new ELFunctionDefinition("", "raise_exception",
                    ChatTemplate.class.getMethod("raiseException", String.class)));
            globals.registerFunction(new ELFunctionDefinition("", "strftime_now",
                    ChatTemplate.class.getMethod("strftimeNow", String.class)));
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
        globals.registerFilter(new ToJsonFilter());
        globals.registerFilter(new ItemsFilter());
        globals.registerExpTest(new IterableTest());
        return j;
    }

    private static String describe(TemplateError e) {
        String raised = raisedMessage(e);
        if (raised != null) {
            return "the template raised an exception: " + raised;
        }
        return e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "");
    }

    /** The message of a raise_exception call behind this error, or null. */
    private static String raisedMessage(TemplateError e) {
        for (Throwable t = e.getException(); t != null; t = t.getCause()) {
            if (t instanceof RaisedByTemplate r) {
                return r.getMessage();
            }
        }
        return null;
    }

    /** raise_exception(message) as templates call it: rendering stops with this message. */
    public static String raiseException(String message) {
        throw new RaisedByTemplate(message);
    }

    /** strftime_now(format): the current local time in a Python strftime format. */
    public static String strftimeNow(String format) {
        return strftime(ZonedDateTime.now(), format);
    }

    static String strftime(ZonedDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char f = format.charAt(++i);
            switch (f) {
                case 'd' -> out.append(String.format("%02d", t.getDayOfMonth()));
                case 'm' -> out.append(String.format("%02d", t.getMonthValue()));
                case 'Y' -> out.append(t.getYear());
                case 'y' -> out.append(String.format("%02d", t.getYear() % 100));
                case 'b' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'H' -> out.append(String.format("%02d", t.getHour()));
                case 'I' -> out.append(String.format("%02d", (t.getHour() + 11) % 12 + 1));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'M' -> out.append(String.format("%02d", t.getMinute()));
                case 'S' -> out.append(String.format("%02d", t.getSecond()));
                case 'j' -> out.append(String.format("%03d", t.getDayOfYear()));
                case '%' -> out.append('%');
                default -> out.append('%').append(f);
            }
        }
        return out.toString();
    }

    /** What raise_exception throws; Jinjava reports it as an error whose cause this is. */
    static final class RaisedByTemplate extends RuntimeException {
        private static final long serialVersionUID = 1L;

        RaisedByTemplate(String message) {
            super(message);
        }
    }

    /** Python json.dumps output, with the indent keyword argument. */
    public static final class ToJsonFilter implements Filter {
        @Override
        public String getName() {
            return "tojson";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            int indent = args.length > 0 && args[0] != null ? Integer.parseInt(args[0].trim()) : 0;
            return PythonJson.dumps(var, indent);
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
            Object indent = kwargs.getOrDefault("indent", args.length > 0 ? args[0] : null);
            return PythonJson.dumps(var, indent instanceof Number n ? n.intValue()
                    : indent == null ? 0 : Integer.parseInt(indent.toString().trim()));
        }
    }

    /** The items filter: a mapping's (key, value) pairs. */
    public static final class ItemsFilter implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            if (var instanceof Map<?, ?> m) {
                return PythonMethods.mapMethod(m, "items", new Object[0]);
            }
            return List.of();
        }
    }

    /** Jinja2's "is iterable": strings, lists and mappings. */
    public static final class IterableTest implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof Iterable<?> || var instanceof Map<?, ?>
                    || (var != null && var.getClass().isArray());
        }
    }
}
