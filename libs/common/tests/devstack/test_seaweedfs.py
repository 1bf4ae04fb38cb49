"""SeaweedFS as the dev stack runs it: built weed, S3 with our keys, no process left behind."""

from __future__ import annotations

from pathlib import Path

from hopen_common.devstack._util import pid_alive
from hopen_common.devstack.seaweedfs import SeaweedServer, s3_request, weed_ready
from hopen_common.devstack.stack import StackConfig, find_repo_root, running_components


def test_seaweedfs_demarre_refuse_les_inconnus_et_s_arrete_sans_orphelin(tmp_path: Path) -> None:
    racine = find_repo_root()
    serveur = SeaweedServer(tmp_path / "seaweedfs", racine / "deploy" / "seaweedfs")
    serveur.start()
    try:
        assert weed_ready(racine / "deploy" / "seaweedfs")
        pid = serveur.pid
        assert pid is not None
        assert pid_alive(pid)
        assert any(c.startswith("seaweedfs") for c in running_components(tmp_path))
        assert any(s.exists() for s in serveur.sockets())
        serveur.create_bucket("essai")
        serveur.create_bucket("essai")  # idempotent
        refuse = s3_request("GET", serveur.endpoint, "/essai", access_key="inconnu",
                            secret_key="faux")
        assert refuse.status_code == 403
        assert "<ListBucketResult" in s3_request(
            "GET", serveur.endpoint, "/essai", access_key=serveur.access_key,
            secret_key=serveur.secret_key).text
    finally:
        serveur.stop()
    assert not pid_alive(pid)
    assert not serveur.pid_file.exists()
    assert running_components(tmp_path) == []
    assert len(serveur.sockets()) == 6
    assert [s for s in serveur.sockets() if s.exists()] == []


def test_seaweedfs_reglages_des_services(tmp_path: Path) -> None:
    fichiers = StackConfig(root=find_repo_root(), data_dir=tmp_path)
    assert fichiers.service_env("candidature")["CANDIDATURE_STOCKAGE_URL"] == (
        (tmp_path / "stockage" / "candidature").as_uri())
    s3 = StackConfig(root=find_repo_root(), data_dir=tmp_path, s3_port=18333)
    env = s3.service_env("candidature")
    assert env["CANDIDATURE_STOCKAGE_URL"] == "s3://hopen/candidature"
    assert env["CANDIDATURE_STOCKAGE_S3_ENDPOINT"] == "http://127.0.0.1:18333"
    assert env["CANDIDATURE_STOCKAGE_S3_ACCESS_KEY"]
