"""mtkit.corpus.dataset: the one reader of parallel datasets for translate, evaluate and finetune."""

import pyarrow as pa
import pyarrow.parquet as pq

from mtkit.corpus.dataset import translation_split


def _parquet_build(root):
    (root / "data" / "en-zh").mkdir(parents=True)
    pq.write_table(pa.table({"translation": [{"en": "Police", "zh": "缅甸 警方"}]}),
                   root / "data" / "en-zh" / "validation-00000-of-00001.parquet")
    (root / "README.md").write_text("---\nconfigs:\n- config_name: en-zh\n  data_files:\n  - split: validation\n"
                                    "    path: data/en-zh/validation-*\n---\n", encoding="utf-8")
    return root


def test_a_build_folder_under_home_given_with_a_tilde(tmp_path, monkeypatch):
    # datasets took "~/ds" for a Hub id: "no config 'en-zh' (Repo id must use alphanumeric chars ...)"
    monkeypatch.setenv("HOME", str(tmp_path))
    _parquet_build(tmp_path / "ds")
    for name in ("~/ds", str(tmp_path / "ds")):
        for split in ("dev", "validation"):
            assert translation_split(name, "en-zh", split, ("zh",))["translation"] == [{"en": "Police",
                                                                                       "zh": "缅甸 警方"}]
