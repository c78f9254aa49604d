/* The .cfg parser: sections and entries in order with their lines, strict
 * syntax errors with file:line, and --set overrides by type and by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/config.h"
#include "test_support.h"

static const char *valid_text = "# a small network\n"
                                "[net]\n"
                                "batch = 64\n"
                                "  learning_rate=0.01   ; trailing comment\n"
                                "\n"
                                "[dense]\n"
                                "name = fc1\n"
                                "units = 256   # hidden\n"
                                "activation = relu\r\n"
                                "path = data/a#b.csv\n"
                                "\n"
                                "; whole-line comment\n"
                                "[dense]\n"
                                "name = fc2\n"
                                "units = 10\n"
                                "[ loss ]  # section with a comment\n"
                                "type = cross_entropy\n";

static nerve_config *parse_ok(const char *text)
{
    nerve_config *cfg = NULL;
    nerve_error err = {0};
    nerve_status status = nerve_config_parse(text, "net.cfg", &cfg, &err);
    if (status != NERVE_OK) fprintf(stderr, "unexpected error: %s\n", err.message);
    assert_int_equal(status, NERVE_OK);
    assert_non_null(cfg);
    return cfg;
}

static void assert_entry(const nerve_config_section *section, int i, const char *key,
                         const char *value, int line)
{
    assert_true(i < section->entry_count);
    assert_string_equal(section->entries[i].key, key);
    assert_string_equal(section->entries[i].value, value);
    assert_int_equal(section->entries[i].line, line);
    assert_false(section->entries[i].used);
}

static void parses_sections_and_entries_in_order_with_lines(void **state)
{
    (void)state;
    nerve_config *cfg = parse_ok(valid_text);
    assert_string_equal(nerve_config_filename(cfg), "net.cfg");
    assert_int_equal(nerve_config_section_count(cfg), 4);

    nerve_config_section *net = nerve_config_section_at(cfg, 0);
    assert_string_equal(net->type, "net");
    assert_int_equal(net->line, 2);
    assert_int_equal(net->entry_count, 2);
    assert_entry(net, 0, "batch", "64", 3);
    assert_entry(net, 1, "learning_rate", "0.01", 4);

    nerve_config_section *fc1 = nerve_config_section_at(cfg, 1);
    assert_string_equal(fc1->type, "dense");
    assert_int_equal(fc1->line, 6);
    assert_int_equal(fc1->entry_count, 4);
    assert_entry(fc1, 0, "name", "fc1", 7);
    assert_entry(fc1, 1, "units", "256", 8);
    assert_entry(fc1, 2, "activation", "relu", 9);
    /* '#' not preceded by whitespace belongs to the value. */
    assert_entry(fc1, 3, "path", "data/a#b.csv", 10);

    nerve_config_section *fc2 = nerve_config_section_at(cfg, 2);
    assert_int_equal(fc2->line, 13);
    assert_entry(fc2, 1, "units", "10", 15);

    nerve_config_section *loss = nerve_config_section_at(cfg, 3);
    assert_string_equal(loss->type, "loss");
    assert_int_equal(loss->line, 16);
    assert_entry(loss, 0, "type", "cross_entropy", 17);

    assert_null(nerve_config_section_at(cfg, 4));
    assert_null(nerve_config_section_at(cfg, -1));
    nerve_config_section_at(cfg, 1)->entries[0].used = true;
    assert_true(nerve_config_section_at(cfg, 1)->entries[0].used);
    nerve_config_free(cfg);
}

static void parses_empty_and_comment_only_text(void **state)
{
    (void)state;
    nerve_config *cfg = parse_ok("");
    assert_int_equal(nerve_config_section_count(cfg), 0);
    nerve_config_free(cfg);
    cfg = parse_ok("# nothing\n\n   ; here\n");
    assert_int_equal(nerve_config_section_count(cfg), 0);
    nerve_config_free(cfg);
}

static void parses_a_section_without_entries_and_no_final_newline(void **state)
{
    (void)state;
    nerve_config *cfg = parse_ok("[net]\n[dropout]\nrate = 0.5");
    assert_int_equal(nerve_config_section_count(cfg), 2);
    assert_int_equal(nerve_config_section_at(cfg, 0)->entry_count, 0);
    assert_entry(nerve_config_section_at(cfg, 1), 0, "rate", "0.5", 3);
    nerve_config_free(cfg);
}

static void assert_parse_error(const char *text, const char *expected)
{
    nerve_config *cfg = (nerve_config *)&cfg;
    nerve_error err = {0};
    assert_int_equal(nerve_config_parse(text, "net.cfg", &cfg, &err), NERVE_ERR_FORMAT);
    assert_int_equal(err.status, NERVE_ERR_FORMAT);
    assert_null(cfg);
    test_assert_message_contains(&err, expected);
    assert_null(strchr(err.message, '\n'));
}

static void reports_syntax_errors_with_their_line(void **state)
{
    (void)state;
    assert_parse_error("[net]\nbatch = 1\njust words\n",
                       "net.cfg:3: expected '[section]' or 'key = value'");
    assert_parse_error("# comment\nunits = 3\n[dense]\n",
                       "net.cfg:2: key 'units' before any [section]");
    assert_parse_error("[net]\n = 3\n", "net.cfg:2: empty key");
    assert_parse_error("[net]\n\n[]\n", "net.cfg:3: empty section name");
    assert_parse_error("[net]\n[  ]\n", "net.cfg:2: empty section name");
    assert_parse_error("[net\n", "net.cfg:1: expected ']'");
    assert_parse_error("[net] extra\n", "net.cfg:1: expected ']'");
    assert_parse_error("[net]\nbatch =\n", "net.cfg:2: key 'batch' has no value");
    assert_parse_error("[net]\nbatch = # comment only\n", "net.cfg:2: key 'batch' has no value");
    assert_parse_error("[net]\nbad key = 1\n", "net.cfg:2: invalid key 'bad key'");
    assert_parse_error("[a.b]\n", "net.cfg:1: invalid section name 'a.b'");
}

static void reports_a_duplicate_key_with_both_lines(void **state)
{
    (void)state;
    const char *text = "[net]\n"
                       "batch = 1\n"
                       "[dense]\n"
                       "units = 3\n"
                       "activation = relu\n"
                       "units = 4\n";
    assert_parse_error(text, "net.cfg:6: key 'units' already set at line 4");
    /* The same key in two sections is fine. */
    nerve_config *cfg = parse_ok("[dense]\nunits = 1\n[dense]\nunits = 2\n");
    nerve_config_free(cfg);
}

static void rejects_overlong_lines_and_binary_garbage(void **state)
{
    (void)state;
    size_t size = 70 * 1024;
    char *text = malloc(size + 32);
    assert_non_null(text);
    strcpy(text, "[net]\nname = ");
    size_t used = strlen(text);
    memset(text + used, 'x', size);
    text[used + size] = '\0';
    assert_parse_error(text, "net.cfg:2: line longer than");

    unsigned char garbage[4096];
    unsigned int seed = 12345;
    for (size_t i = 0; i < sizeof garbage - 1; i++) {
        seed = seed * 1103515245u + 12345u;
        garbage[i] = (unsigned char)(1 + (seed >> 16) % 255);
    }
    garbage[sizeof garbage - 1] = 0;
    nerve_config *cfg = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_config_parse((const char *)garbage, "junk.cfg", &cfg, &err),
                     NERVE_ERR_FORMAT);
    assert_null(cfg);
    test_assert_message_contains(&err, "junk.cfg:");
    assert_parse_error("[net]\nbatch = 1\x01\n", "net.cfg:2: control character 0x01");
    free(text);
}

static void load_reads_a_file_and_names_it(void **state)
{
    (void)state;
    const char *path = test_tmppath("valid.cfg");
    test_write_file(path, valid_text, strlen(valid_text));
    nerve_config *cfg = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_config_load(path, &cfg, &err), NERVE_OK);
    assert_string_equal(nerve_config_filename(cfg), path);
    assert_int_equal(nerve_config_section_count(cfg), 4);
    nerve_config_free(cfg);

    const char *bad = test_tmppath("bad.cfg");
    test_write_file(bad, "[net]\nbatch = 1\nunits\n", 22);
    assert_int_equal(nerve_config_load(bad, &cfg, &err), NERVE_ERR_FORMAT);
    assert_null(cfg);
    char expected[600];
    snprintf(expected, sizeof expected, "%s:3: expected '[section]' or 'key = value'", bad);
    test_assert_message_contains(&err, expected);

    assert_int_equal(nerve_config_load(test_tmppath("missing.cfg"), &cfg, &err), NERVE_ERR_IO);
    test_assert_message_contains(&err, "missing.cfg");
}

static void load_rejects_nul_bytes_with_their_line(void **state)
{
    (void)state;
    const char *path = test_tmppath("nul.cfg");
    const char text[] = "[net]\nbatch = 1\nunits = 2\0 hidden\n[dense]\n";
    test_write_file(path, text, sizeof text - 1);
    nerve_config *cfg = NULL;
    nerve_error err = {0};
    assert_int_equal(nerve_config_load(path, &cfg, &err), NERVE_ERR_FORMAT);
    assert_null(cfg);
    test_assert_message_contains(&err, "nul.cfg:3: NUL byte");
}

static const char *override_text = "[net]\n"
                                   "batch = 64\n"
                                   "[dense]\n"
                                   "name = fc1\n"
                                   "units = 256\n"
                                   "[dense]\n"
                                   "name = fc2\n"
                                   "units = 10\n"
                                   "[optimizer]\n"
                                   "type = sgd\n";

static const nerve_config_entry *find(nerve_config *cfg, int section, const char *key)
{
    nerve_config_section *s = nerve_config_section_at(cfg, section);
    for (int i = 0; i < s->entry_count; i++)
        if (strcmp(s->entries[i].key, key) == 0) return &s->entries[i];
    return NULL;
}

static void override_by_type_and_by_name(void **state)
{
    (void)state;
    nerve_config *cfg = parse_ok(override_text);
    nerve_error err = {0};
    assert_int_equal(nerve_config_override(cfg, "net.batch=32", &err), NERVE_OK);
    assert_string_equal(find(cfg, 0, "batch")->value, "32");
    assert_int_equal(find(cfg, 0, "batch")->line, 0);
    assert_int_equal(nerve_config_section_at(cfg, 0)->entry_count, 1);

    assert_int_equal(nerve_config_override(cfg, "fc1.units=512", &err), NERVE_OK);
    assert_string_equal(find(cfg, 1, "units")->value, "512");
    assert_string_equal(find(cfg, 2, "units")->value, "10");

    /* A key the file lacks is added, with line 0. */
    assert_int_equal(nerve_config_override(cfg, "optimizer.learning_rate = 0.1", &err), NERVE_OK);
    const nerve_config_entry *lr = find(cfg, 3, "learning_rate");
    assert_non_null(lr);
    assert_string_equal(lr->value, "0.1");
    assert_int_equal(lr->line, 0);

    /* Values may hold '=' and '.'. */
    assert_int_equal(nerve_config_override(cfg, "fc2.init=a.b=c", &err), NERVE_OK);
    assert_string_equal(find(cfg, 2, "init")->value, "a.b=c");
    nerve_config_free(cfg);
}

static void assert_override_error(nerve_config *cfg, const char *assignment, const char *expected)
{
    nerve_error err = {0};
    assert_int_equal(nerve_config_override(cfg, assignment, &err), NERVE_ERR_INVALID);
    test_assert_message_contains(&err, expected);
}

static void override_rejects_unknown_ambiguous_and_malformed(void **state)
{
    (void)state;
    nerve_config *cfg = parse_ok(override_text);
    assert_override_error(cfg, "fc9.units=3", "--set fc9.units=3: no section or layer named 'fc9'");
    assert_override_error(cfg, "dense.units=3", "--set dense.units=3: 2 sections are [dense]");
    assert_override_error(cfg, "units=3", "--set units=3: expected section.key=value");
    assert_override_error(cfg, "net.batch", "--set net.batch: expected section.key=value");
    assert_override_error(cfg, ".batch=3", "expected section.key=value");
    assert_override_error(cfg, "net.=3", "expected section.key=value");
    assert_override_error(cfg, "net.batch=", "expected section.key=value");
    assert_override_error(cfg, "net.bad key=1", "expected section.key=value");
    /* Nothing changed on error. */
    assert_string_equal(find(cfg, 1, "units")->value, "256");
    assert_string_equal(find(cfg, 2, "units")->value, "10");
    nerve_config_free(cfg);

    cfg = parse_ok("[dense]\nname = net\n[net]\nbatch = 1\n");
    assert_override_error(cfg, "net.batch=2", "'net' matches the sections at lines 3 and 1");
    nerve_config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_sections_and_entries_in_order_with_lines),
        cmocka_unit_test(parses_empty_and_comment_only_text),
        cmocka_unit_test(parses_a_section_without_entries_and_no_final_newline),
        cmocka_unit_test(reports_syntax_errors_with_their_line),
        cmocka_unit_test(reports_a_duplicate_key_with_both_lines),
        cmocka_unit_test(rejects_overlong_lines_and_binary_garbage),
        cmocka_unit_test(load_reads_a_file_and_names_it),
        cmocka_unit_test(load_rejects_nul_bytes_with_their_line),
        cmocka_unit_test(override_by_type_and_by_name),
        cmocka_unit_test(override_rejects_unknown_ambiguous_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
