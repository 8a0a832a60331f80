//! TLS to a remote PostgreSQL: a private cluster listening on TCP with a
//! certificate for `localhost` from a CA made here with the `openssl`
//! command, reached through the library and the real binary under each
//! sslmode.

use crate::support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{Cluster, DEMO_PASSWORD, Shell};

const PASSWORD: &str = "tls-test-Pw42";
const IS_SSL: &str = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command (Debian: `apt-get install -y openssl`) runs: the TLS tests need it");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA in `dir/{name}.pem` (its key in `{name}.key`).
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "2",
            "-subj",
            &format!("/CN=oc12 test {name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
    dir.join(format!("{name}.pem"))
}

/// `server.crt` and `server.key` in `dir`, for `localhost` only, signed by
/// the CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
}

/// Gives a file to the postgres OS user when we are root (the server runs
/// as that user and wants its key private to it).
fn give_to_postgres(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    if oc12::db::local::is_root() {
        // SAFETY: getpwnam with a NUL-terminated name; the record is read at once.
        let (uid, gid) = unsafe {
            let pw = libc::getpwnam(c"postgres".as_ptr());
            assert!(!pw.is_null(), "no postgres OS user");
            ((*pw).pw_uid, (*pw).pw_gid)
        };
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    }
}

/// A private cluster on `127.0.0.1:port` whose superuser has a password,
/// with TLS on or off.
struct Server {
    /// Kept for its lifetime: dropped, the server stops.
    _cluster: Cluster,
    port: u16,
    /// Where the CAs are: `ca.pem` signed the server's certificate,
    /// `other.pem` did not.
    certs: tempfile::TempDir,
}

impl Server {
    fn new(tls: bool) -> Server {
        let cluster = Cluster::new_private();
        cluster
            .admin("postgres")
            .batch_execute(&format!("ALTER ROLE postgres PASSWORD '{PASSWORD}'"))
            .unwrap();
        let certs = tempfile::tempdir().unwrap();
        if tls {
            make_ca(certs.path(), "ca");
            make_ca(certs.path(), "other");
            make_server_cert(certs.path(), "ca");
            let data = cluster.local.socket_dir();
            for f in ["server.crt", "server.key"] {
                std::fs::copy(certs.path().join(f), data.join(f)).unwrap();
                give_to_postgres(&data.join(f));
            }
            let mut conf = std::fs::read_to_string(data.join("postgresql.conf")).unwrap();
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
            std::fs::write(data.join("postgresql.conf"), conf).unwrap();
        }
        let port = free_port();
        cluster.local.stop().unwrap();
        cluster
            .local
            .start(Some(("127.0.0.1", port)))
            .expect("the server starts on TCP");
        Server {
            _cluster: cluster,
            port,
            certs,
        }
    }

    fn ca(&self, name: &str) -> String {
        self.certs
            .path()
            .join(format!("{name}.pem"))
            .display()
            .to_string()
    }

    /// The superuser's URL at `host`, with `params` as its query.
    fn url(&self, host: &str, db: &str, params: &str) -> String {
        let url = format!("postgresql://postgres:{PASSWORD}@{host}:{}/{db}", self.port);
        if params.is_empty() {
            url
        } else {
            format!("{url}?{params}")
        }
    }
}

fn connect(url: &str) -> oc12::Result<postgres::Client> {
    let (config, tls) = oc12::db::tls::configure(url)?;
    oc12::db::connect(&config, &tls)
}

fn uses_tls(client: &mut postgres::Client) -> bool {
    client.query_one(IS_SSL, &[]).unwrap().get(0)
}

#[track_caller]
fn refused(url: &str) -> String {
    match connect(url) {
        Ok(_) => panic!("{url} connected"),
        Err(e) => {
            assert_eq!(e.kind, oc12::ErrorKind::Connection, "{e:?}");
            assert!(!e.message.contains(PASSWORD), "{}", e.message);
            e.message
        }
    }
}

#[test]
fn each_sslmode_does_what_libpq_does() {
    let server = Server::new(true);
    let port = server.port;
    let ca = server.ca("ca");
    let other = server.ca("other");

    for (params, tls) in [
        ("sslmode=require", true),
        // Channel binding proves the stream's end-point hash is right.
        ("sslmode=require&channel_binding=require", true),
        ("", true),
        ("sslmode=prefer", true),
        ("sslmode=disable", false),
        (&format!("sslmode=verify-full&sslrootcert={ca}"), true),
        (&format!("sslmode=verify-ca&sslrootcert={ca}"), true),
    ] {
        let mut client = connect(&server.url("localhost", "postgres", params))
            .unwrap_or_else(|e| panic!("{params}: {e:?}"));
        assert_eq!(uses_tls(&mut client), tls, "{params}");
    }
    // verify-ca does not check the name: 127.0.0.1 is not in the certificate.
    let mut client = connect(&server.url(
        "127.0.0.1",
        "postgres",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    ))
    .unwrap();
    assert!(uses_tls(&mut client));
    // The key=value form too, with a quoted path.
    let mut client = connect(&format!(
        "host=localhost port={port} user=postgres password={PASSWORD} dbname=postgres \
         sslmode=verify-full sslrootcert='{ca}'"
    ))
    .unwrap();
    assert!(uses_tls(&mut client));

    assert_eq!(
        refused(&server.url(
            "localhost",
            "postgres",
            &format!("sslmode=verify-full&sslrootcert={other}")
        )),
        format!(
            "cannot connect to postgres@localhost:{port}/postgres: the server's certificate \
             is not trusted (its issuer is not in {other})"
        )
    );
    assert_eq!(
        refused(&server.url(
            "127.0.0.1",
            "postgres",
            &format!("sslmode=verify-full&sslrootcert={ca}")
        )),
        format!(
            "cannot connect to postgres@127.0.0.1:{port}/postgres: the server's certificate \
             does not match host 127.0.0.1 (it is for localhost)"
        )
    );
    // require with a root certificate checks the chain (libpq's rule).
    assert!(
        refused(&server.url(
            "localhost",
            "postgres",
            &format!("sslmode=require&sslrootcert={other}")
        ))
        .ends_with(&format!("is not trusted (its issuer is not in {other})"))
    );
}

#[test]
fn init_and_the_shell_honour_sslmode() {
    let server = Server::new(true);
    let port = server.port;
    let ca = server.ca("ca");
    let other = server.ca("other");
    let home = tempfile::tempdir().unwrap();
    let init = |url: &str| {
        Shell::bare(home.path())
            .args(["init", "--demo", "--admin-url", url])
            .run()
    };

    let run = init(&server.url(
        "localhost",
        "crm",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ))
    .status(4);
    assert_eq!(
        run.stderr(),
        format!(
            "error[connection]: cannot connect to postgres@localhost:{port}/crm: the server's \
             certificate is not trusted (its issuer is not in {other})\n"
        )
    );
    let run = init(&server.url(
        "127.0.0.1",
        "crm",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .status(4);
    assert_eq!(
        run.stderr(),
        format!(
            "error[connection]: cannot connect to postgres@127.0.0.1:{port}/crm: the server's \
             certificate does not match host 127.0.0.1 (it is for localhost)\n"
        )
    );

    let run = init(&server.url(
        "localhost",
        "crm",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ))
    .status(0);
    // The collaborators' URL keeps the protection of the admin URL.
    assert!(
        run.stdout().contains(&format!(
            "OC12_DATABASE_URL=postgresql://localhost:{port}/crm?sslmode=verify-full&sslrootcert={ca}\n"
        )),
        "{}",
        run.stdout()
    );
    assert!(!run.stderr().contains(PASSWORD));
    // The shell reaches the CRM through it.
    Shell::bare(home.path())
        .args(["login", "ad123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(0);
    let out = Shell::bare(home.path())
        .args(["--format", "csv", "-c", "count events"])
        .run()
        .status(0)
        .stdout();
    assert_eq!(out, "count\n7\n");
    let app_url =
        oc12::config::read_env_file(&home.path().join("config.env")).unwrap()["OC12_DATABASE_URL"]
            .clone();
    // The session's own connections are encrypted: its secret never
    // crosses the network in clear.
    let session = oc12::auth::load_credential(home.path(), None).unwrap();
    let mut psql = connect(&app_url.replace(
        "postgresql://",
        &format!("postgresql://{}:{}@", session.claims.role, session.secret()),
    ))
    .unwrap();
    assert!(uses_tls(&mut psql));
    // OC12_DATABASE_URL with the wrong CA: refused before anything runs.
    let wrong = app_url.replace(&ca, &other);
    let run = Shell::bare(home.path())
        .env("OC12_DATABASE_URL", &wrong)
        .args(["--format", "csv", "-c", "count events"])
        .run()
        .status(4);
    assert!(
        run.stderr()
            .starts_with("error[connection]: cannot connect to ")
            && run.stderr().contains(&format!(
                "the server's certificate is not trusted (its issuer is not in {other})"
            )),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_server_without_tls_is_refused_when_sslmode_requires_it() {
    let server = Server::new(false);
    let port = server.port;
    let mut client = connect(&server.url("localhost", "postgres", "")).unwrap();
    assert!(!uses_tls(&mut client), "prefer falls back to plaintext");
    for mode in ["require", "verify-ca", "verify-full"] {
        assert_eq!(
            refused(&server.url("localhost", "postgres", &format!("sslmode={mode}"))),
            format!(
                "cannot connect to postgres@localhost:{port}/postgres: the server does not \
                 accept TLS connections, which the URL's sslmode requires"
            )
        );
    }
    let home = tempfile::tempdir().unwrap();
    let run = Shell::bare(home.path())
        .args([
            "init",
            "--admin-url",
            &server.url("localhost", "crm", "sslmode=require"),
        ])
        .run()
        .status(4);
    assert_eq!(
        run.stderr(),
        format!(
            "error[connection]: cannot connect to postgres@localhost:{port}/crm: the server \
             does not accept TLS connections, which the URL's sslmode requires\n"
        )
    );
}

#[test]
fn an_unknown_sslmode_is_a_usage_error() {
    let url = format!("postgresql://postgres:{PASSWORD}@localhost:1/crm?sslmode=verify");
    let e = oc12::db::tls::configure(&url).unwrap_err();
    assert_eq!(e.kind, oc12::ErrorKind::Usage);
    let home = tempfile::tempdir().unwrap();
    let run = Shell::bare(home.path())
        .args(["init", "--admin-url", &url])
        .run()
        .status(2);
    assert_eq!(
        run.stderr(),
        "error[usage]: sslmode `verify` is not one of disable, prefer, require, verify-ca, \
         verify-full\n"
    );
    let run = Shell::bare(home.path())
        .env("OC12_DATABASE_URL", &url)
        .args(["login", "ad123456789", "--password-stdin"])
        .stdin(DEMO_PASSWORD)
        .run()
        .status(2);
    assert!(
        run.stderr().starts_with("error[usage]: sslmode `verify`"),
        "{}",
        run.stderr()
    );
    // A root certificate file that is not there is named.
    let url = format!(
        "postgresql://postgres:{PASSWORD}@localhost:1/crm?sslmode=verify-full&sslrootcert=/nowhere/ca.pem"
    );
    let run = Shell::bare(home.path())
        .args(["init", "--admin-url", &url])
        .run()
        .status(2);
    assert!(
        run.stderr()
            .starts_with("error[usage]: sslrootcert /nowhere/ca.pem: "),
        "{}",
        run.stderr()
    );
    assert!(!run.stderr().contains(PASSWORD));
}
