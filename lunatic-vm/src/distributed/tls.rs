//! Mutual TLS between nodes: development certificates (`lunatic cluster-certs`), the
//! QUIC server and client configurations, and the check that binds a peer's claimed node
//! name to its certificate.
//!
//! Trust: a cluster is one CA. A node accepts a peer only if the CA signed the peer's
//! certificate (both directions: the dialing node checks the server, the accepting node
//! asks for and checks a client certificate), over TLS 1.3 only; plain text is not
//! spoken at all. Every node certificate names [`CLUSTER_NAME`], which nodes dial (a seed
//! is an address, its name unknown), and the node's own name, which its hello must match
//! ([`certificate_names`]), so a node cannot pose as another.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The name every node certificate carries, and every node dials.
pub(crate) const CLUSTER_NAME: &str = "lunatic-node";

/// The application protocol nodes speak (ALPN): a node of another version is refused in
/// the handshake.
const ALPN: &[u8] = b"lunatic-cluster/1";

/// Why the certificates could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` holds no {what} in PEM form")]
    NoPem { path: PathBuf, what: &'static str },
    #[error("`{0}` is not a valid node name (a DNS label: letters, digits, '-', '.')")]
    BadName(String),
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the TLS configuration is refused: {0}")]
    Config(String),
}

/// Writes a development CA (`ca.pem`, `ca.key`) and, for each of `nodes`, a certificate
/// and key (`NAME.pem`, `NAME.key`) it signed, into `dir`. Keys are readable by the owner
/// only.
///
/// # Errors
/// A name is not a DNS name, or a file cannot be written.
pub(crate) fn write_cluster_certs(dir: &Path, nodes: &[String]) -> Result<(), TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    for name in nodes {
        if ServerName::try_from(name.as_str()).is_err() || name.is_empty() {
            return Err(TlsError::BadName(name.clone()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "lunatic development cluster CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    write(&dir.join("ca.pem"), ca_cert.pem().as_bytes(), false)?;
    write(&dir.join("ca.key"), ca_key.serialize_pem().as_bytes(), true)?;
    let issuer = Issuer::new(ca, ca_key);
    for name in nodes {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(vec![name.clone(), CLUSTER_NAME.to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &issuer)?;
        write(
            &dir.join(format!("{name}.pem")),
            cert.pem().as_bytes(),
            false,
        )?;
        write(
            &dir.join(format!("{name}.key")),
            key.serialize_pem().as_bytes(),
            true,
        )?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<(), TlsError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let error = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .map_err(error)?;
    file.write_all(bytes).map_err(error)
}

/// Where a node's trust and identity are read from.
#[derive(Debug, Clone)]
pub(crate) struct TlsFiles {
    /// The cluster CA's certificate.
    pub(crate) ca: PathBuf,
    /// This node's certificate (the CA signed it).
    pub(crate) cert: PathBuf,
    /// This node's private key.
    pub(crate) key: PathBuf,
}

/// A node's QUIC configurations, as server and as client, both requiring the cluster CA.
pub(crate) struct NodeTls {
    pub(crate) server: quinn::ServerConfig,
    pub(crate) client: quinn::ClientConfig,
    /// This node's certificate (to check that it names the node).
    pub(crate) certificate: CertificateDer<'static>,
}

impl NodeTls {
    /// Loads the files.
    ///
    /// # Errors
    /// A file cannot be read or holds no PEM object of its kind, or rustls refuses them.
    pub(crate) fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let ca = certificates(&files.ca)?;
        let chain = certificates(&files.cert)?;
        let key = read(&files.key).and_then(|bytes| {
            PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsError::NoPem {
                path: files.key.clone(),
                what: "private key",
            })
        })?;
        let mut roots = rustls::RootCertStore::empty();
        for cert in ca {
            roots
                .add(cert)
                .map_err(|error| TlsError::Config(error.to_string()))?;
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config_error = |error: rustls::Error| TlsError::Config(error.to_string());

        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::clone(&roots),
            Arc::clone(&provider),
        )
        .build()
        .map_err(|error| TlsError::Config(error.to_string()))?;
        let mut server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(config_error)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain.clone(), key.clone_key())
            .map_err(config_error)?;
        server.alpn_protocols = vec![ALPN.to_vec()];

        let mut client = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(config_error)?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain.clone(), key)
            .map_err(config_error)?;
        client.alpn_protocols = vec![ALPN.to_vec()];

        let quic_error = |error: quinn::crypto::rustls::NoInitialCipherSuite| {
            TlsError::Config(error.to_string())
        };
        let server =
            quinn::crypto::rustls::QuicServerConfig::try_from(server).map_err(quic_error)?;
        let client =
            quinn::crypto::rustls::QuicClientConfig::try_from(client).map_err(quic_error)?;
        let mut server = quinn::ServerConfig::with_crypto(Arc::new(server));
        let mut client = quinn::ClientConfig::new(Arc::new(client));
        let transport = Arc::new(transport());
        server.transport_config(Arc::clone(&transport));
        client.transport_config(transport);
        Ok(Self {
            server,
            client,
            certificate: chain[0].clone(),
        })
    }
}

/// The transport settings of every connection between nodes: many streams (one per
/// sending process), keep-alives well inside the idle timeout, and datagrams (the
/// membership protocol's).
fn transport() -> quinn::TransportConfig {
    let mut transport = quinn::TransportConfig::default();
    transport
        .max_concurrent_uni_streams(quinn::VarInt::from_u32(1 << 16))
        .max_concurrent_bidi_streams(quinn::VarInt::from_u32(1 << 12))
        .keep_alive_interval(Some(std::time::Duration::from_millis(500)))
        .max_idle_timeout(Some(quinn::VarInt::from_u32(10_000).into()))
        .datagram_receive_buffer_size(Some(1 << 20));
    transport
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&bytes)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoPem {
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(certs)
}

/// Whether `certificate` names `name` (as a DNS subject alternative name). The chain was
/// checked against the cluster CA in the handshake; this binds the name a peer claims.
pub(crate) fn certificate_names(certificate: &CertificateDer<'_>, name: &str) -> bool {
    let Ok(server_name) = ServerName::try_from(name) else {
        return false;
    };
    webpki::EndEntityCert::try_from(certificate)
        .is_ok_and(|cert| cert.verify_is_valid_for_subject_name(&server_name).is_ok())
}

/// The certificate a connection's peer presented.
pub(crate) fn peer_certificate(connection: &quinn::Connection) -> Option<CertificateDer<'static>> {
    connection
        .peer_identity()?
        .downcast::<Vec<CertificateDer<'static>>>()
        .ok()?
        .into_iter()
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_name_their_node_and_the_cluster_only() {
        let dir = std::env::temp_dir().join(format!("lunatic-tls-test-{}", std::process::id()));
        write_cluster_certs(&dir, &["a".into(), "node-b".into()]).unwrap();
        let files = TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("node-b.pem"),
            key: dir.join("node-b.key"),
        };
        let tls = NodeTls::load(&files).unwrap();
        assert!(certificate_names(&tls.certificate, "node-b"));
        assert!(certificate_names(&tls.certificate, CLUSTER_NAME));
        assert!(!certificate_names(&tls.certificate, "a"));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("a.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            write_cluster_certs(&dir, &["not a name".into()]),
            Err(TlsError::BadName(_))
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
