#!/usr/bin/env python3
"""Assembles the kfwd relay image as an OCI image layout in a tar file (an `oci-archive`),
without a container engine: per architecture, one layer holding the static relay binary, a
config (non-root user, entrypoint, exposed port) and a manifest; for several architectures, an
image index over them. Every timestamp is --created and every file's owner is root, so the same
binaries give the same bytes and the same digest.

Called by scripts/relay-image, which builds the binary; see docs/relay.md.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import sys
import tarfile

MEDIA = {
    "index": "application/vnd.oci.image.index.v1+json",
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
}
RELAY_PORT = 9527
NONROOT = "65532:65532"


def canonical(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def tar_bytes(entries, mtime):
    """A tar of (name, data, mode) entries (data None: a folder), owned by root, all at `mtime`,
    in the given order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def gzip_bytes(data):
    # No file name and a zero time in the gzip header: the same input gives the same bytes.
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as stream:
        stream.write(data)
    return buffer.getvalue()


class Blobs:
    def __init__(self):
        self.blobs = {}

    def add(self, data, media_type, **extra):
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return dict(mediaType=media_type, digest=digest, size=len(data), **extra)


def image(blobs, architecture, binary, created, annotations):
    """One architecture's manifest descriptor: the layer, the config, the manifest."""
    layer = tar_bytes([("kfwd-relay", binary, 0o755)], mtime=int(created.timestamp()))
    layer_descriptor = blobs.add(gzip_bytes(layer), MEDIA["layer"])
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    config = {
        "created": stamp,
        "architecture": architecture,
        "os": "linux",
        "config": {
            "User": NONROOT,
            "Entrypoint": ["/kfwd-relay"],
            "ExposedPorts": {f"{RELAY_PORT}/tcp": {}},
            "WorkingDir": "/",
            "Labels": annotations,
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": stamp, "created_by": "scripts/relay-image: the static kfwd-relay binary"}],
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA["manifest"],
        "config": blobs.add(canonical(config), MEDIA["config"]),
        "layers": [layer_descriptor],
        "annotations": annotations,
    }
    return blobs.add(canonical(manifest), MEDIA["manifest"], platform={"architecture": architecture, "os": "linux"})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", action="append", required=True, metavar="ARCH=PATH",
                        help="a static kfwd-relay for an OCI architecture (amd64, arm64); repeat for several")
    parser.add_argument("--output", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--revision", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--created", type=int, required=True, help="seconds since 1970 (SOURCE_DATE_EPOCH)")
    arguments = parser.parse_args()

    created = datetime.datetime.fromtimestamp(arguments.created, tz=datetime.timezone.utc)
    annotations = {
        "org.opencontainers.image.title": "kfwd-relay",
        "org.opencontainers.image.description": "kfwd's in-cluster relay for UDP and proxy forwards",
        "org.opencontainers.image.source": arguments.source,
        "org.opencontainers.image.version": arguments.version,
        "org.opencontainers.image.revision": arguments.revision,
        "org.opencontainers.image.created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    blobs = Blobs()
    manifests = []
    for item in arguments.binary:
        architecture, separator, path = item.partition("=")
        if not separator or architecture not in ("amd64", "arm64"):
            sys.exit(f"oci_image.py: --binary {item!r} is not ARCH=PATH with ARCH amd64 or arm64")
        with open(path, "rb") as file:
            manifests.append(image(blobs, architecture, file.read(), created, annotations))

    reference = {"org.opencontainers.image.ref.name": arguments.version}
    if len(manifests) == 1:
        top = dict(manifests[0], annotations=reference)
    else:
        nested = {"schemaVersion": 2, "mediaType": MEDIA["index"], "manifests": manifests, "annotations": annotations}
        top = blobs.add(canonical(nested), MEDIA["index"], annotations=reference)
    index = {"schemaVersion": 2, "mediaType": MEDIA["index"], "manifests": [top]}

    entries = [("oci-layout", canonical({"imageLayoutVersion": "1.0.0"}), 0o644), ("index.json", canonical(index), 0o644)]
    entries += [("blobs", None, 0o755), ("blobs/sha256", None, 0o755)]
    entries += [(f"blobs/sha256/{digest[7:]}", data, 0o644) for digest, data in sorted(blobs.blobs.items())]
    with open(arguments.output, "wb") as file:
        file.write(tar_bytes(entries, mtime=arguments.created))
    print(top["digest"])


if __name__ == "__main__":
    main()
