"""Settings as data: sources and their precedence, one-line errors, hidden secrets, no import side effects,
and the README's configuration table generated from the fields."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from conftest import ROOT
from rag.errors import RagError
from rag.settings import (FALLBACK_ENV, OFFLINE_ENVIRONMENT, Settings, markdown_table, misspelt_variables,
                          offline_environment, readme_with_table)

REGENERATE = "python -m rag.settings --readme README.md"


@pytest.fixture
def clean(monkeypatch, tmp_path):
    """No RAG_* or fallback variables, and a working folder without a rag.toml."""
    for name in list(os.environ):
        if name.startswith("RAG_") or name in FALLBACK_ENV.values():
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_readme_table_is_generated_from_the_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_with_table(readme) == readme, f"README.md's configuration table differs from rag/settings.py: run {REGENERATE}"


def test_the_table_lists_every_setting_with_a_description():
    table = markdown_table()
    for name in Settings().flat():
        assert f"`RAG_{name.upper()}`" in table
    for section, info in Settings.model_fields.items():
        assert info.description
        for name, field in info.annotation.model_fields.items():
            assert field.description, f"{section}.{name} has no description"


def test_module_prints_the_table():
    proc = subprocess.run([sys.executable, "-m", "rag.settings", "--markdown"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 0 and proc.stdout == markdown_table() and proc.stderr == ""


def test_flat_names_map_to_their_sections(clean):
    s = Settings(top_k=3, retrieval={"candidates": 7}, index_dir="elsewhere")
    assert (s.retrieval.top_k, s.retrieval.candidates, str(s.paths.index_dir)) == (3, 7, "elsewhere")
    assert Settings(**s.flat()) == s
    assert s._with({"chunk_tokens": 64}).indexing.chunk_tokens == 64 and s.indexing.chunk_tokens == 128
    assert not set(Settings.model_fields) & set(s.flat()), "a setting is named like a section"


def test_precedence_defaults_toml_env_overrides(clean, tmp_path):
    (tmp_path / "rag.toml").write_text("[rag]\ntop_k = 2\ncandidates = 20\nrrf_k = 30\n")
    clean.setenv("RAG_CANDIDATES", "40")
    clean.setenv("RAG_RRF_K", "50")
    s = Settings.load(rrf_k=70, dense_weight=None)
    r = s.retrieval
    assert (r.top_k, r.candidates, r.rrf_k, r.dense_weight) == (2, 40, 70, 1.0)


def test_flat_and_sectioned_toml_agree(clean, tmp_path):
    flat = tmp_path / "flat.toml"
    flat.write_text('[rag]\ntop_k = 3\nanswerer = "openai"\ntitle_in_embedding = false\n')
    sectioned = tmp_path / "sectioned.toml"
    sectioned.write_text('[rag]\ntop_k = 3\n[rag.answer]\nanswerer = "openai"\n[rag.embedding]\ntitle_in_embedding = false\n')
    assert Settings.load(flat) == Settings.load(sectioned) != Settings()
    clean.setenv("RAG_CONFIG", str(sectioned))
    assert Settings.load().answer.answerer == "openai"


def test_a_named_config_file_that_is_missing_is_an_error(clean, tmp_path):
    """A user who names a file means it: only the default rag.toml may be absent."""
    clean.setenv("RAG_CONFIG", str(tmp_path / "nonexistent.toml"))
    with pytest.raises(RagError, match=r"nonexistent.toml: no such file \(RAG_CONFIG\)"):
        Settings.load()
    with pytest.raises(RagError, match="no such file"):
        Settings.load(tmp_path / "other.toml")
    clean.delenv("RAG_CONFIG")
    assert Settings.load() == Settings()


def test_empty_variables_are_ignored(clean):
    clean.setenv("RAG_CHROMA_URL", "")
    clean.setenv("RAG_TOP_K", "")
    assert Settings.load() == Settings()


def test_openai_api_key_falls_back_to_its_usual_variable(clean, tmp_path):
    clean.setenv("OPENAI_API_KEY", "sk-general")
    assert Settings.load().llm.openai_api_key == "sk-general"
    (tmp_path / "rag.toml").write_text('[rag]\nopenai_api_key = "sk-toml"\n')
    assert Settings.load().llm.openai_api_key == "sk-toml"
    clean.setenv("RAG_OPENAI_API_KEY", "sk-rag")
    assert Settings.load().llm.openai_api_key == "sk-rag"


def _from_toml() -> Settings:
    with open("rag.toml", "w") as fh:
        fh.write("[rag]\nbogus = 1\n")
    return Settings.load()


@pytest.mark.parametrize("load", [lambda: Settings.load(bogus=1), lambda: Settings()._with({"bogus": 1}), _from_toml],
                         ids=["override", "_with", "toml"])
def test_unknown_setting_is_one_line(clean, load):
    with pytest.raises(RagError, match=r"^unknown setting 'bogus'$"):
        load()


def test_a_variable_that_nearly_names_a_setting_is_named_in_a_warning(clean, tmp_path):
    """An environment variable cannot be told from another program's, so it is no error; one that nearly
    names a setting is a typo the CLI warns about instead of ignoring it silently."""
    assert misspelt_variables({"RAG_TOPK": "3", "RAG_INDEXDIR": "x", "RAG_TOP_K": "3", "RAG_DEBUG": "1",
                               "RAG_BIN": "x", "OTHER_TOPK": "3"}) == [
        "RAG_INDEXDIR is no setting; did you mean RAG_INDEX_DIR?", "RAG_TOPK is no setting; did you mean RAG_TOP_K?"]
    (tmp_path / "index").mkdir()  # `articles` reads an index; it makes none
    out = subprocess.run([sys.executable, "-m", "rag.cli", "articles"], capture_output=True, text=True,
                         env={**os.environ, "RAG_TOPK": "3", "RAG_INDEX_DIR": str(tmp_path / "index")}, timeout=120)
    assert out.returncode == 0
    assert out.stderr.splitlines()[0] == "rag: warning: RAG_TOPK is no setting; did you mean RAG_TOP_K?", out.stderr


def test_a_setting_in_the_wrong_section_is_unknown(clean, tmp_path):
    (tmp_path / "rag.toml").write_text("[rag.retrieval]\nchunk_tokens = 64\n")
    with pytest.raises(RagError, match=r"^unknown setting 'retrieval.chunk_tokens'$"):
        Settings.load()
    with pytest.raises(RagError, match=r"^unknown setting 'retrieval.bogus'$"):
        Settings(retrieval={"bogus": 1})


@pytest.mark.parametrize("name, value", [("RAG_TOP_K", "many"), ("RAG_TYPO_CORRECTION", "maybe"),
                                         ("RAG_ANSWERER", "oracle"), ("RAG_CHUNK_OVERLAP", "-1"),
                                         ("RAG_ABSTAIN_THRESHOLD", "nan"), ("RAG_RECENCY_HALF_LIFE_DAYS", "inf")])
def test_bad_value_is_one_line_naming_setting_and_value(clean, name, value):
    clean.setenv(name, value)
    with pytest.raises(RagError) as e:
        Settings.load()
    message = str(e.value)
    assert message.startswith(f"setting {name[4:].lower()} ({name}): cannot use {value!r} (") and "\n" not in message


def test_bad_toml_is_one_line(clean, tmp_path):
    (tmp_path / "rag.toml").write_text("[rag\n")
    with pytest.raises(RagError, match=r"^config rag.toml: not valid TOML \(.*\)$"):
        Settings.load()


def test_none_overrides_are_ignored_but_with_unsets(clean):
    assert Settings.load(top_k=None, chroma_url=None) == Settings()
    s = Settings(chroma_url="http://127.0.0.1:8000")
    assert s._with({"chroma_url": None}).store.chroma_url is None


def test_secrets_are_not_shown(clean):
    s = Settings(openai_api_key="sk-secret-1", embed_url_key="ek-secret-2", ui_password="pw-secret-3", ui_user="ann")
    shown = repr(s) + str(s) + repr(s.llm) + repr(s.ui) + repr(s.embedding)
    assert "ann" in shown and not any(secret in shown for secret in ("sk-secret-1", "ek-secret-2", "pw-secret-3"))
    assert s.llm.openai_api_key == "sk-secret-1"  # the code still reads the plain value
    with pytest.raises(RagError) as e:
        Settings(ui_password=12345)
    assert "12345" not in str(e.value) and "ui_password" in str(e.value)


def test_settings_are_immutable_and_hashable(clean):
    s = Settings()
    with pytest.raises(ValidationError):
        s.retrieval.top_k = 3
    with pytest.raises(ValidationError):
        s.retrieval = s.retrieval
    assert hash(s) == hash(Settings()) and s == Settings() and s != Settings(top_k=3)


def test_importing_settings_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_ENVIRONMENT}
    code = ("import os; before = dict(os.environ); import rag, rag.settings; from rag import Settings; "
            "Settings.load(); assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_offline_environment_sets_only_what_is_unset(monkeypatch):
    for name in OFFLINE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    offline_environment()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    assert all(os.environ[k] == v for k, v in OFFLINE_ENVIRONMENT.items() if k != "HF_HUB_OFFLINE")
