# The example study of the tests: one table, written by a shell command.

EXAMPLE = study_section("example")

TARGETS["example"] = [f"{RESULTS}/example/greeting.md"] if EXAMPLE else []

if EXAMPLE:

    rule example_greeting:
        output:
            md=f"{RESULTS}/example/greeting.md",
        params:
            row=" ".join([EXAMPLE["greeting"]] * EXAMPLE["repeats"]),
        shell:
            "printf '| greeting |\\n|---|\\n| %s |\\n' '{params.row}' > {output.md}"
