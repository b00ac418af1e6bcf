"""The ONNX backend computes the vectors sentence-transformers computes from the same model folder: the packaged
MiniLM, and models of other shapes that `RAG_EMBED_MODEL` may name (MPNet takes no token type ids; a model may
pool by its [CLS] token or by max instead of the mean)."""
import os
import shutil

import numpy as np
import pytest

from rag.embed import Embedder, default_model_path
from rag.errors import RagError

TEXTS = ["When does the tariff truce expire?",
         "The 90-day tariff truce implemented in May is set to expire on August 12.",
         "Short.",
         "Beijing said there were currently no economic and trade negotiations between China and the United States, "
         "despite recent signs of softening on the dispute from Washington, and denied reports of a deal."]


def _both(path, tmp_path) -> tuple[np.ndarray, np.ndarray]:
    onnx = Embedder(str(path), backend="onnx", batch_size=2, cache_dir=tmp_path / "cache").embed(TEXTS)
    torch = Embedder(str(path), backend="torch", batch_size=2).embed(TEXTS)
    return onnx, torch


def test_packaged_model_gives_the_same_vectors_on_both_backends(tmp_path):
    onnx, torch = _both(default_model_path(), tmp_path)
    assert onnx.shape == torch.shape == (len(TEXTS), 384)
    assert np.abs(onnx - torch).max() < 1e-4
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1.0, atol=1e-5)


def _tiny_model(tmp_path, kind: str, pooling: str):
    """A small random-weight sentence-transformers folder of `kind` ("mpnet" or "bert") pooling by `pooling`,
    with the packaged MiniLM's tokenizer (its vocabulary fits both configs)."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, MPNetConfig, MPNetModel

    shape = dict(vocab_size=30527, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 pad_token_id=0)
    raw = tmp_path / f"{kind}-raw"
    model = MPNetModel(MPNetConfig(**shape)) if kind == "mpnet" else BertModel(BertConfig(**shape))
    model.save_pretrained(raw)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(f"{default_model_path()}/{name}", raw / name)
    word = models.Transformer(str(raw), max_seq_length=64)
    folder = tmp_path / f"{kind}-{pooling}"
    SentenceTransformer(modules=[word, models.Pooling(32, pooling_mode=pooling)], device="cpu").save(str(folder))
    return folder


@pytest.mark.parametrize("kind,pooling", [("mpnet", "mean"), ("bert", "cls"), ("bert", "max")])
def test_other_model_shapes_give_the_same_vectors_on_both_backends(tmp_path, kind, pooling):
    onnx, torch = _both(_tiny_model(tmp_path, kind, pooling), tmp_path)
    assert onnx.shape == torch.shape == (len(TEXTS), 32)
    assert np.abs(onnx - torch).max() < 1e-4


def test_a_pooling_the_onnx_backend_lacks_is_a_one_line_error(tmp_path):
    folder = _tiny_model(tmp_path, "bert", "weightedmean")
    with pytest.raises(RagError, match="RAG_EMBED_BACKEND=torch") as e:
        Embedder(str(folder), backend="onnx", cache_dir=tmp_path / "cache").embed(TEXTS)
    assert "\n" not in str(e.value)


def _articles(tmp_path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "ferry.txt").write_text("New ferry\nThe new ferry cost 12 million euros.\n")
    return articles


def _refused(rag, articles, match: str) -> None:
    """Questions and new articles embedded by another model than the index's are refused with one line naming
    the settings to change, and nothing is written."""
    (articles / "bridge.txt").write_text("Bridge opens\nThe bridge opens in May.\n")
    for call in (lambda: rag.ask("How much did the ferry cost?", answerer="local"), lambda: rag.index(articles)):
        with pytest.raises(RagError, match=match) as e:
            call()
        assert "\n" not in str(e.value)
    assert rag.store.article_ids() == ["ferry.txt"]


def test_an_index_of_another_models_vectors_is_a_one_line_error_and_stays_whole(tmp_path):
    """The model the index was built with is recorded in it (Chroma's own refusal of vectors of another length
    read "unexpected error")."""
    from rag.api import RAG

    articles = _articles(tmp_path)
    RAG(index_dir=tmp_path / "idx", chroma_url=None, embed_model=str(_tiny_model(tmp_path, "mpnet", "mean"))).index(articles)
    _refused(RAG(index_dir=tmp_path / "idx", chroma_url=None), articles,
             "was built with the embedding model mpnet-mean, not all-MiniLM-L6-v2: set RAG_EMBED_MODEL")


def test_another_model_of_the_same_length_is_refused_too(tmp_path):
    """A model that gives vectors as long as the index's would be compared silently, ranking at random."""
    from rag.api import RAG

    articles = _articles(tmp_path)
    RAG(index_dir=tmp_path / "idx", chroma_url=None).index(articles)
    # same length, another model as far as the index can tell (a copy by hard links, not a link to the folder)
    shutil.copytree(default_model_path(), tmp_path / "other-384", copy_function=os.link)
    same = RAG(index_dir=tmp_path / "idx", chroma_url=None, embed_model=default_model_path())  # named by its path
    assert "12 million" in same.ask("How much did the ferry cost?", answerer="local").text
    _refused(RAG(index_dir=tmp_path / "idx", chroma_url=None, embed_model=str(tmp_path / "other-384")), articles,
             "was built with the embedding model all-MiniLM-L6-v2, not other-384")


def test_vectors_of_another_length_under_the_same_name_are_a_one_line_error(tmp_path):
    from rag.api import RAG

    articles = _articles(tmp_path)
    tiny = _tiny_model(tmp_path, "mpnet", "mean").rename(tmp_path / "all-MiniLM-L6-v2")
    RAG(index_dir=tmp_path / "idx", chroma_url=None, embed_model=str(tiny)).index(articles)
    _refused(RAG(index_dir=tmp_path / "idx", chroma_url=None), articles,
             "holds 32-dimensional vectors and the embedding model gives 384")


def test_one_export_serves_every_copy_of_a_model_and_no_other(tmp_path):
    """The ONNX export is named by the model's own bytes, not its path: a second install (another clone's venv)
    reuses it, and a model of the same shape with other weights gets its own."""
    copy = tmp_path / "copy" / "model"
    shutil.copytree(default_model_path(), copy, copy_function=os.link)
    assert Embedder(str(copy)).onnx_path == Embedder().onnx_path
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    first, second = _tiny_model(tmp_path / "a", "bert", "cls"), _tiny_model(tmp_path / "b", "bert", "cls")
    assert first.name == second.name and Embedder(str(first)).onnx_path != Embedder(str(second)).onnx_path
