//! A loopback TCP proxy in front of a server: each connection is piped
//! both ways on two threads, and a [`Tap`] sees (and may hold) every chunk
//! that passes. Shared by the OCI crate's read-ahead tests (which record
//! requests) and the network bench (which delays and paces them, `#[path]`).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// What a proxy does with the bytes it passes.
pub trait Tap: Send + Sync + 'static {
    /// State kept per connection.
    type Connection: Default + Send + Sync + 'static;
    /// A chunk the client sent, before it goes on (one request is one
    /// chunk here); a tap may sleep to delay it.
    fn to_server(&self, connection: &Self::Connection, chunk: &[u8]);
    /// A chunk of the server's answer, before it goes back.
    fn to_client(&self, connection: &Self::Connection, chunk: &[u8]);
}

/// Starts a proxy to `upstream` on a free loopback port; its address.
pub fn start_proxy<T: Tap>(upstream: SocketAddr, tap: Arc<T>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (Ok(client_read), Ok(server_write)) = (client.try_clone(), server.try_clone())
            else {
                continue;
            };
            let connection = Arc::new(T::Connection::default());
            let (up, up_connection) = (tap.clone(), connection.clone());
            std::thread::spawn(move || {
                pipe(client_read, server_write, |c| {
                    up.to_server(&up_connection, c)
                })
            });
            let down = tap.clone();
            std::thread::spawn(move || pipe(server, client, |c| down.to_client(&connection, c)));
        }
    });
    addr
}

/// Copies `from` to `to` until either side ends, showing each chunk to
/// `see` first.
fn pipe(mut from: TcpStream, mut to: TcpStream, see: impl Fn(&[u8])) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                see(&buf[..n]);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
