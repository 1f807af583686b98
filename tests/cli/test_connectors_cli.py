"""`borgersag connectors list` and `check` against the sandbox."""

from __future__ import annotations

from borgersag.cli.main import main


def write_sources(folder, sources: dict[str, dict]) -> None:
    lines = []
    for name, table in sources.items():
        lines.append(f"[sources.{name}]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in table.items()]
    (folder / "sources.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_list_shows_types_and_configured_sources(sandbox, tmp_path, capsys):
    write_sources(tmp_path, {"byggesag": sandbox.source_config()["byggesag"]})
    assert main(["connectors", "list", "--config", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for type_name in ("sbsys", "ejerfortegnelse", "byggesag", "zgw", "momentum", "os2mo", "rest"):
        assert f"  {type_name} " in out
    assert "Byggesager (sandkasse)" in out


def test_check_prints_a_table_and_fails_when_a_source_does_not_answer(sandbox, tmp_path, capsys):
    config = sandbox.source_config()
    broken = {**config["byggesag"], "base_url": "http://127.0.0.1:9/", "title": "Nede"}
    write_sources(tmp_path, {"sbsys": config["sbsys"], "nede": broken})
    assert main(["connectors", "check", "--config", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    sbsys = next(line for line in out.splitlines() if line.startswith("sbsys "))
    down = next(line for line in out.splitlines() if line.startswith("nede "))
    assert " OK " in sbsys and " FEJL " in down


def test_check_passes_when_every_source_answers(sandbox, tmp_path, capsys):
    write_sources(tmp_path, {"zgw": sandbox.source_config()["zgw"]})
    assert main(["connectors", "check", "--config", str(tmp_path)]) == 0
    assert " OK " in capsys.readouterr().out
