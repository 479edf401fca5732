package dev.ferry.moe.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class TemplateRewriterTest {

    @Test
    void whitespaceControlStripsAdjacentWhitespaceAndKeepsPlainDelimiters() {
        assertEquals("a{{ x }}b", TemplateRewriter.rewrite("a \n  {{- x -}}\n\t b"));
        assertEquals("a{% if y %}{% endif %}", TemplateRewriter.rewrite("a\n{%- if y -%}\n  {%- endif %}"));
        assertEquals("a{# note #}", TemplateRewriter.rewrite("a  {#- note #}"));
        assertEquals("a {{ x }} b", TemplateRewriter.rewrite("a {{ x }} b"));
    }

    @Test
    void keywordArgumentValuesAreParenthesised() {
        assertEquals("{% set ns = namespace(a=(true), b=(messages|length - 1)) %}",
                TemplateRewriter.rewrite("{% set ns = namespace(a=true, b=messages|length - 1) %}"));
        assertEquals("{{ x | tojson(indent=(4)) }}", TemplateRewriter.rewrite("{{ x | tojson(indent=4) }}"));
        // comparisons, assignments outside calls and macro signatures are left alone
        assertEquals("{{ f(a == b, c != d) }}", TemplateRewriter.rewrite("{{ f(a == b, c != d) }}"));
        assertEquals("{% set x = 1 %}", TemplateRewriter.rewrite("{% set x = 1 %}"));
        assertEquals("{% macro m(a=1) %}{% endmacro %}", TemplateRewriter.rewrite("{% macro m(a=1) %}{% endmacro %}"));
    }

    @Test
    void reversedSliceBecomesTheReverseFilterButStringsStayUntouched() {
        assertEquals("{% for m in messages|reverse %}", TemplateRewriter.rewrite("{% for m in messages[::-1] %}"));
        assertEquals("{{ '[::-1] -}} a=b' }}", TemplateRewriter.rewrite("{{ '[::-1] -}} a=b' }}"));
        assertEquals("text [::-1] {-", TemplateRewriter.rewrite("text [::-1] {-"));
    }

    @Test
    void nestedDictLiteralsKeepTheTagOpenUntilItsRealEnd() {
        assertEquals("{{ {'c': {} } | tojson }}x", TemplateRewriter.rewrite("{{ {'c': {}} | tojson -}} x"));
    }
}
