//! [`ToSocketAddrs`]: `std::net::ToSocketAddrs` for lunatic, where names resolve through
//! the host (WASI preview 1 has no resolver of its own).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Things that are, or resolve to, socket addresses: the input of `bind`, `connect` and
/// `send_to`, as in std. Implemented for `SocketAddr` (and its V4/V6 forms), `(ip, port)`,
/// `(&str, port)`, `"host:port"` strings and slices of addresses.
pub trait ToSocketAddrs {
    /// The addresses, resolving names through the host.
    ///
    /// # Errors
    /// `InvalidInput` if a string is not `host:port` with a valid port; `NotFound` if the
    /// host does not resolve.
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>>;
}

fn one(addr: SocketAddr) -> io::Result<std::vec::IntoIter<SocketAddr>> {
    Ok(vec![addr].into_iter())
}

impl ToSocketAddrs for SocketAddr {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(*self)
    }
}

impl ToSocketAddrs for SocketAddrV4 {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(SocketAddr::V4(*self))
    }
}

impl ToSocketAddrs for SocketAddrV6 {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(SocketAddr::V6(*self))
    }
}

impl ToSocketAddrs for (IpAddr, u16) {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(SocketAddr::new(self.0, self.1))
    }
}

impl ToSocketAddrs for (Ipv4Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(SocketAddr::new(IpAddr::V4(self.0), self.1))
    }
}

impl ToSocketAddrs for (Ipv6Addr, u16) {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        one(SocketAddr::new(IpAddr::V6(self.0), self.1))
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        let (host, port) = *self;
        if let Ok(ip) = host.parse::<IpAddr>() {
            return one(SocketAddr::new(ip, port));
        }
        super::resolve(&format!("{host}:{port}"))
    }
}

impl ToSocketAddrs for (String, u16) {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        (self.0.as_str(), self.1).to_socket_addrs()
    }
}

impl ToSocketAddrs for str {
    /// An IP address with a port is used as it is; `name:port` is resolved. Anything else
    /// is `InvalidInput` without asking the host, as in std.
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        if let Ok(addr) = self.parse::<SocketAddr>() {
            return one(addr);
        }
        let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, what.to_owned());
        let (host, port) = self
            .rsplit_once(':')
            .ok_or_else(|| invalid("invalid socket address"))?;
        let port: u16 = port.parse().map_err(|_| invalid("invalid port value"))?;
        (host, port).to_socket_addrs()
    }
}

impl ToSocketAddrs for String {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        self.as_str().to_socket_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        let addrs: Vec<SocketAddr> = self.into();
        Ok(addrs.into_iter())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_socket_addrs(&self) -> io::Result<std::vec::IntoIter<SocketAddr>> {
        (**self).to_socket_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_addresses_need_no_host_and_bad_ones_are_invalid_input() {
        let addr: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert_eq!("127.0.0.1:80".to_socket_addrs().unwrap().next(), Some(addr));
        assert_eq!(addr.to_socket_addrs().unwrap().next(), Some(addr));
        assert_eq!(
            (Ipv4Addr::LOCALHOST, 80).to_socket_addrs().unwrap().next(),
            Some(addr)
        );
        assert_eq!(
            ("127.0.0.1", 80).to_socket_addrs().unwrap().next(),
            Some(addr)
        );
        for bad in [
            "not an address",
            "127.0.0.1",
            "localhost:http",
            "host:99999",
        ] {
            let error = bad.to_socket_addrs().unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{bad}");
        }
    }
}
