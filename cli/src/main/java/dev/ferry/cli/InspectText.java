package dev.ferry.cli;

import dev.ferry.loader.GgmlType;
import dev.ferry.loader.GgufArray;
import dev.ferry.loader.GgufValue;
import dev.ferry.loader.ModelSummary;
import dev.ferry.loader.TensorRole;
import dev.ferry.loader.TokenizerSummary;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Renders a {@link ModelSummary} as aligned, human-readable text for {@code ferry inspect}. */
final class InspectText {

    private final StringBuilder out = new StringBuilder();

    private InspectText() {
    }

    static String render(ModelSummary s) {
        InspectText t = new InspectText();
        t.overview(s);
        t.hyperParameters(s);
        t.tokenizer(s.tokenizer());
        t.metadata(s);
        t.tensors(s);
        t.totals(s);
        return t.out.toString();
    }

    private void overview(ModelSummary s) {
        List<String[]> rows = new ArrayList<>();
        rows.add(row("file", s.file().toString()));
        rows.add(row("size", bytes(s.fileSize()) + ", GGUF v" + s.version()));
        rows.add(row("data", "starts at byte " + num(s.dataOffset()) + ", alignment " + s.alignment()));
        rows.add(row("architecture", s.architecture() == null ? "(general.architecture missing)" : s.architecture()));
        if (s.name() != null) {
            rows.add(row("name", s.name()));
        }
        s.metadata().find("general.file_type").ifPresent(v -> rows.add(row("file type", v.summary()
                + fileTypeName(v))));
        rows.add(row("parameters", count(s.total().parameters()) + " (" + num(s.total().parameters()) + ")"));
        rows.add(row("tensors", num(s.total().tensors()) + ", " + bytes(s.total().bytes())));
        rows.add(row("metadata", num(s.metadata().size()) + " keys"));
        table(rows, "");
        out.append('\n');
    }

    private void hyperParameters(ModelSummary s) {
        if (s.hyperParameters().isEmpty()) {
            return;
        }
        out.append("hyper-parameters (").append(printable(s.architecture())).append(".*)\n");
        List<String[]> rows = new ArrayList<>();
        s.hyperParameters().forEach((k, v) -> rows.add(row(k, v.summary())));
        table(rows, "  ");
        out.append('\n');
    }

    private void tokenizer(TokenizerSummary t) {
        if (t == null) {
            return;
        }
        out.append("tokenizer\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(row("model", t.model() + (t.pre() == null ? "" : ", pre-tokenizer " + t.pre())));
        rows.add(row("vocabulary", num(t.vocabSize()) + " tokens " + t.firstTokens()));
        rows.add(row("merges", num(t.mergeCount())));
        for (TokenizerSummary.SpecialToken id : t.specialIds()) {
            rows.add(row(id.role(), id.id() + " " + tokenText(id.text())));
        }
        if (!t.tokenTypes().isEmpty()) {
            StringBuilder b = new StringBuilder();
            t.tokenTypes().forEach((type, n) -> b.append(b.isEmpty() ? "" : ", ").append(type).append(' ').append(num(n)));
            rows.add(row("token types", b.toString()));
        }
        if (t.specialCount() > 0) {
            StringBuilder b = new StringBuilder(num(t.specialCount())).append(": ");
            for (int i = 0; i < t.specials().size(); i++) {
                TokenizerSummary.SpecialToken sp = t.specials().get(i);
                b.append(i == 0 ? "" : ", ").append(sp.id()).append(' ').append(tokenText(sp.text()));
            }
            if (t.specialCount() > t.specials().size()) {
                b.append(", ...");
            }
            rows.add(row("special tokens", b.toString()));
        }
        rows.add(row("chat template", t.chatTemplateChars() < 0 ? "none" : num(t.chatTemplateChars()) + " characters"));
        table(rows, "  ");
        out.append('\n');
    }

    private void metadata(ModelSummary s) {
        out.append("metadata (").append(s.metadata().size()).append(" keys)\n");
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<String, GgufValue> e : s.metadata().asMap().entrySet()) {
            GgufValue v = e.getValue();
            String type = v instanceof GgufArray a ? "ARRAY" : v.type().toString();
            rows.add(new String[] {e.getKey(), type, v.summary()});
        }
        table(rows, "  ");
        out.append('\n');
    }

    private void tensors(ModelSummary s) {
        out.append("tensors (").append(s.tensors().size()).append(")\n");
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"name", "type", "shape", "parameters", "bytes", "", "role"});
        for (ModelSummary.Tensor t : s.tensors()) {
            rows.add(new String[] {t.name(), t.type().name(), shape(t.shape()), num(t.elements()), num(t.bytes()),
                    human(t.bytes()), t.role().label()});
        }
        table(rows, "  ", 3, 4, 5);
        out.append('\n');
    }

    private void totals(ModelSummary s) {
        long all = Math.max(1, s.total().bytes());
        out.append("by type\n");
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<GgmlType, ModelSummary.Totals> e : s.byType().entrySet()) {
            rows.add(totalsRow(e.getKey().name(), e.getValue(), all));
        }
        table(rows, "  ", 1, 2, 3, 4, 5);
        out.append("\nby role\n");
        rows.clear();
        for (Map.Entry<TensorRole, ModelSummary.Totals> e : s.byRole().entrySet()) {
            rows.add(totalsRow(e.getKey().label(), e.getValue(), all));
        }
        rows.add(totalsRow("total", s.total(), all));
        table(rows, "  ", 1, 2, 3, 4, 5);
    }

    private static String[] totalsRow(String label, ModelSummary.Totals t, long all) {
        return new String[] {label, num(t.tensors()) + (t.tensors() == 1 ? " tensor" : " tensors"), count(t.parameters()) + " params",
                human(t.bytes()), num(t.bytes()) + " B", String.format(Locale.ROOT, "%.1f %%", 100.0 * t.bytes() / all)};
    }

    private static String fileTypeName(GgufValue v) {
        if (!(v instanceof GgufValue.IntValue iv)) {
            return "";
        }
        String[] names = {"ALL_F32", "MOSTLY_F16", "MOSTLY_Q4_0", "MOSTLY_Q4_1", null, null, null, "MOSTLY_Q8_0",
                "MOSTLY_Q5_0", "MOSTLY_Q5_1", "MOSTLY_Q2_K", "MOSTLY_Q3_K_S", "MOSTLY_Q3_K_M", "MOSTLY_Q3_K_L",
                "MOSTLY_Q4_K_S", "MOSTLY_Q4_K_M", "MOSTLY_Q5_K_S", "MOSTLY_Q5_K_M", "MOSTLY_Q6_K"};
        long id = iv.value();
        return id >= 0 && id < names.length && names[(int) id] != null ? " (" + names[(int) id] + ")" : "";
    }

    private static String[] row(String key, String value) {
        return new String[] {key, value};
    }

    /** Appends rows with columns padded to their widest cell; the listed columns align right. */
    private void table(List<String[]> rawRows, String indent, int... rightAligned) {
        List<String[]> rows = new ArrayList<>(rawRows.size());
        for (String[] r : rawRows) {
            String[] clean = new String[r.length];
            for (int c = 0; c < r.length; c++) {
                clean[c] = printable(r[c]);
            }
            rows.add(clean);
        }
        int cols = 0;
        for (String[] r : rows) {
            cols = Math.max(cols, r.length);
        }
        int[] width = new int[cols];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder(indent);
            for (int c = 0; c < r.length; c++) {
                boolean right = false;
                for (int ra : rightAligned) {
                    right |= ra == c;
                }
                String cell = r[c];
                String pad = " ".repeat(width[c] - cell.length());
                if (c > 0) {
                    line.append("  ");
                }
                line.append(right ? pad + cell : (c == r.length - 1 ? cell : cell + pad));
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
    }

    /** Text from the file, made safe for a terminal: control characters become escapes. */
    static String printable(String s) {
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean control = c < 0x20 || (c >= 0x7F && c < 0xA0) || c == '\u2028' || c == '\u2029';
            if (control && b == null) {
                b = new StringBuilder(s.substring(0, i));
            }
            if (b != null) {
                b.append(control ? String.format(Locale.ROOT, "\\u%04x", (int) c) : String.valueOf(c));
            }
        }
        return b == null ? s : b.toString();
    }

    static String shape(long[] shape) {
        StringBuilder b = new StringBuilder();
        for (long d : shape) {
            b.append(b.isEmpty() ? "" : " x ").append(d);
        }
        return b.isEmpty() ? "scalar" : b.toString();
    }

    private static String tokenText(String text) {
        return text == null ? "(outside the vocabulary)" : GgufValue.quote(text, 40);
    }

    static String num(long n) {
        return String.format(Locale.ROOT, "%,d", n);
    }

    /** "1.16 MiB (1,221,408 bytes)". */
    static String bytes(long n) {
        return n < 1024 ? num(n) + " bytes" : human(n) + " (" + num(n) + " bytes)";
    }

    /** "1.23 GiB", "512 B". */
    static String human(long n) {
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        if (n < 1024) {
            return n + " B";
        }
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }

    /** "30.53 B", "1.23 M", "512". */
    static String count(long n) {
        if (n < 1000) {
            return Long.toString(n);
        }
        String[] units = {"K", "M", "B", "T"};
        double v = n;
        int u = -1;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
