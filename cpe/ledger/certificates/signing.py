"""The PAdES signature of a certificate (电子签名), with pyHanko: a PDF reader shows it signed and unaltered.

The key and certificate come from the settings ``CERTIFICATE_SIGNING_KEY`` and ``CERTIFICATE_SIGNING_CERT``
(each a path to a PEM file, or the PEM text itself; the certificate may be followed by its chain;
``CERTIFICATE_SIGNING_KEY_PASSWORD`` if the key is encrypted). With neither set, a **development pair**
is used: made on first use under ``VAR_DIR/certificate-signing/`` (a self-signed CA, and a signing
certificate it issued; only the CA's certificate is kept, never its key), never committed. A reader
then says the document is unaltered but that the signer is unknown, until ``ca.pem`` there is
trusted; in production configure the bureau's own certificate (docs/deployment.md).

RSA (PKCS #1 v1.5) and ECDSA keys are supported, SHA-256, an invisible signature field covering the
whole file (PAdES B-B). The key is loaded once per process and kept as a ``cryptography`` object:
pyHanko's ``SimpleSigner`` would re-parse and re-check it for every signature (~100 ms of an RSA key).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import io
import logging
import os
import tempfile
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

DEVELOPMENT_DIR = "certificate-signing"
# The development pair is valid from the CE system's first year (a test may pin the clock back to it).
VALID_FROM = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)
SIGNATURE_BYTES = 16384  # room for the CMS blob: a 4096-bit key with a three-certificate chain fits


@dataclasses.dataclass(frozen=True)
class SigningMaterial:
    """What signs: the key (a ``cryptography`` object), the certificate and its chain (asn1crypto)."""

    key: object  # cryptography's private key
    key_info: asn1_keys.PrivateKeyInfo
    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    development: bool

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly[:300]


def signing_material() -> SigningMaterial:
    """The configured key and certificate, or the development pair (made on first use)."""
    key, cert = settings.CERTIFICATE_SIGNING_KEY, settings.CERTIFICATE_SIGNING_CERT
    if key or cert:
        return _configured(key, cert, settings.CERTIFICATE_SIGNING_KEY_PASSWORD)
    return _development(str(Path(settings.VAR_DIR) / DEVELOPMENT_DIR))


def sign_pdf(pdf: bytes, *, signer_name: str, reason: str, location: str,
             material: SigningMaterial | None = None) -> bytes:
    """``pdf`` with a PAdES signature over the whole file (an incremental update)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    material = material or signing_material()
    meta = signers.PdfSignatureMetadata(field_name="Signature1", subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", name=signer_name, reason=reason, location=location)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = signers.sign_pdf(writer, meta, signer=_signer(material), bytes_reserved=SIGNATURE_BYTES)
    return output.getvalue()


# --- the key and certificate -----------------------------------------------------------------

def _pem(value: str, what: str) -> bytes:
    """PEM text as given (``\\n`` may stand for line breaks, for one-line environment values), or a file's."""
    if value.lstrip().startswith("-----BEGIN"):
        return value.replace("\\n", "\n").encode()
    try:
        return Path(value).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(f"{what}: cannot read {value!r} ({error.strerror}).") from None


@functools.lru_cache(maxsize=4)
def _configured(key_setting: str, cert_setting: str, password: str) -> SigningMaterial:
    if not (key_setting and cert_setting):
        raise ImproperlyConfigured("CERTIFICATE_SIGNING_KEY and CERTIFICATE_SIGNING_CERT are set together.")
    try:
        key = serialization.load_pem_private_key(_pem(key_setting, "CERTIFICATE_SIGNING_KEY"),
                                                 password=password.encode() or None)
        certificates = x509.load_pem_x509_certificates(_pem(cert_setting, "CERTIFICATE_SIGNING_CERT"))
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(f"Certificate signing: the key or certificate cannot be read ({error}).") from None
    spki = Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificates[0].public_key().public_bytes(*spki):
        raise ImproperlyConfigured("CERTIFICATE_SIGNING_CERT (its first certificate) is not the key's.")
    return _material(key, certificates[0], certificates[1:], development=False)


def _material(key, certificate, chain, *, development: bool) -> SigningMaterial:
    def load(cert):
        return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))

    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                                serialization.NoEncryption()))
    return SigningMaterial(key, key_info, load(certificate), tuple(load(cert) for cert in chain), development)


def _signer(material: SigningMaterial):
    from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from pyhanko.sign import signers
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    class LoadedKeySigner(signers.SimpleSigner):
        """``SimpleSigner`` with the key parsed once (see the module doc)."""

        def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
            algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if mechanism == "rsassa_pkcs1v15":
                return material.key.sign(data, PKCS1v15(), algorithm)
            if mechanism == "ecdsa":
                return material.key.sign(data, ECDSA(algorithm))
            return super().sign_raw(data, digest_algorithm)

    return LoadedKeySigner(signing_cert=material.certificate, signing_key=material.key_info,
                           cert_registry=SimpleCertificateStore.from_certs(list(material.chain)))


# --- the development pair --------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _development(directory: str) -> SigningMaterial:
    bundle = Path(directory) / "development.pem"
    if not bundle.exists():
        _write_development_pair(bundle)
    data = bundle.read_bytes()
    key = serialization.load_pem_private_key(data, password=None)
    certificate, ca = x509.load_pem_x509_certificates(data)
    ca_file = bundle.with_name("ca.pem")
    if not ca_file.exists():
        ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    if not settings.DEBUG:
        logger.warning("Certificates are signed with the DEVELOPMENT pair in %s: set CERTIFICATE_SIGNING_KEY "
                       "and CERTIFICATE_SIGNING_CERT in production.", directory)
    return _material(key, certificate, [ca], development=True)


def development_ca() -> asn1_x509.Certificate:
    """The development CA's certificate: what a test (or a reader) trusts to validate development signatures."""
    return _development(str(Path(settings.VAR_DIR) / DEVELOPMENT_DIR)).chain[0]


def _write_development_pair(bundle: Path) -> None:
    """Key, signing certificate and CA certificate in one file, written at once: of two processes
    making it at the same time, the first to link its file wins and the other reads that one."""
    bundle.parent.mkdir(parents=True, exist_ok=True)
    key, certificate, ca = _new_development_pair()
    pem = (key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
           + certificate.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    handle, temporary = tempfile.mkstemp(dir=bundle.parent, prefix=".development-")
    try:
        with os.fdopen(handle, "wb") as out:  # mkstemp: mode 0600
            out.write(pem)
        os.link(temporary, bundle)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)


def _new_development_pair():
    def name(common_name: str):
        return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "会计之星（开发环境，非正式签名）"),
                          x509.NameAttribute(NameOID.COMMON_NAME, common_name)])

    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = name("会计之星开发用根证书（仅供开发测试）")

    def builder(subject, public_key, *, ca: bool):
        usage = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                               "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"),
                              False)
        usage.update({"key_cert_sign": True, "crl_sign": True} if ca
                     else {"digital_signature": True, "content_commitment": True})
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(public_key)
                .serial_number(x509.random_serial_number())
                .not_valid_before(VALID_FROM).not_valid_after(now + dt.timedelta(days=7300))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
                .add_extension(x509.KeyUsage(**usage), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                               critical=False))

    ca = builder(ca_name, ca_key.public_key(), ca=True).sign(ca_key, hashes.SHA256())
    certificate = (builder(name("山西省财政厅学分证明签名（开发环境）"), key.public_key(), ca=False)
                   .sign(ca_key, hashes.SHA256()))
    return key, certificate, ca
