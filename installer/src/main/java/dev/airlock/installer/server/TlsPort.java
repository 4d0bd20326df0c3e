package dev.airlock.installer.server;

import dev.airlock.airgap.serve.WrongScheme;
import java.nio.ByteBuffer;
import java.security.KeyManagementException;
import java.security.SecureRandom;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * The server's TLS, answering a plain-HTTP request on its port with a 400 that says to use https:// (the JDK's HTTPS
 * server would only close the connection: "empty reply"). The JDK server reads each connection through an
 * {@link SSLEngine}; the engines made here look at the connection's first byte ({@link WrongScheme}) and, when it is
 * not a TLS handshake, take what the client sent, end the connection as closed by the peer, and hand the server the
 * 400 to send as the closing bytes. Everything else is the given context's.
 */
final class TlsPort {

  private TlsPort() {}

  /** {@code tls}, whose engines answer plain HTTP with {@code text} in a 400. */
  static SSLContext answeringPlainHttp(SSLContext tls, String text) {
    byte[] answer = WrongScheme.badRequest(text);
    return new SSLContext(new Spi(tls, answer), tls.getProvider(), tls.getProtocol()) { };
  }

  private static final class Spi extends SSLContextSpi {
    private final SSLContext tls;
    private final byte[] answer;

    Spi(SSLContext tls, byte[] answer) {
      this.tls = tls;
      this.answer = answer;
    }

    @Override
    protected void engineInit(KeyManager[] km, TrustManager[] tm, SecureRandom sr) throws KeyManagementException {
      throw new KeyManagementException("already initialized");
    }

    @Override
    protected SSLSocketFactory engineGetSocketFactory() {
      return tls.getSocketFactory();
    }

    @Override
    protected SSLServerSocketFactory engineGetServerSocketFactory() {
      return tls.getServerSocketFactory();
    }

    @Override
    protected SSLEngine engineCreateSSLEngine() {
      return new Engine(tls.createSSLEngine(), answer);
    }

    @Override
    protected SSLEngine engineCreateSSLEngine(String host, int port) {
      return new Engine(tls.createSSLEngine(host, port), answer);
    }

    @Override
    protected SSLSessionContext engineGetServerSessionContext() {
      return tls.getServerSessionContext();
    }

    @Override
    protected SSLSessionContext engineGetClientSessionContext() {
      return tls.getClientSessionContext();
    }

    @Override
    protected SSLParameters engineGetDefaultSSLParameters() {
      return tls.getDefaultSSLParameters();
    }

    @Override
    protected SSLParameters engineGetSupportedSSLParameters() {
      return tls.getSupportedSSLParameters();
    }
  }

  /** An engine that is the real one, unless the client's first byte shows it speaks plain HTTP. */
  private static final class Engine extends SSLEngine {
    private final SSLEngine real;
    private final byte[] answer;
    private boolean decided; // guarded by this
    private boolean plain; // guarded by this
    private boolean answered; // guarded by this

    Engine(SSLEngine real, byte[] answer) {
      super(real.getPeerHost(), real.getPeerPort());
      this.real = real;
      this.answer = answer;
    }

    @Override
    public SSLEngineResult unwrap(ByteBuffer src, ByteBuffer[] dsts, int offset, int length) throws SSLException {
      synchronized (this) {
        if (!decided && src.hasRemaining()) {
          decided = true;
          plain = !WrongScheme.tls(src.get(src.position()) & 0xff);
        }
        if (plain) {
          // The request is not read: the connection ends as if the client closed it, and the closing write
          // (wrap) is the answer.
          int n = src.remaining();
          src.position(src.limit());
          return new SSLEngineResult(Status.CLOSED, HandshakeStatus.NEED_WRAP, n, 0);
        }
      }
      return real.unwrap(src, dsts, offset, length);
    }

    @Override
    public SSLEngineResult wrap(ByteBuffer[] srcs, int offset, int length, ByteBuffer dst) throws SSLException {
      synchronized (this) {
        if (plain) {
          if (answered || dst.remaining() < answer.length) {
            return new SSLEngineResult(answered ? Status.CLOSED : Status.BUFFER_OVERFLOW,
                HandshakeStatus.NOT_HANDSHAKING, 0, 0);
          }
          answered = true;
          dst.put(answer);
          return new SSLEngineResult(Status.CLOSED, HandshakeStatus.NOT_HANDSHAKING, 0, answer.length);
        }
      }
      return real.wrap(srcs, offset, length, dst);
    }

    @Override
    public synchronized HandshakeStatus getHandshakeStatus() {
      return plain ? HandshakeStatus.NOT_HANDSHAKING : real.getHandshakeStatus();
    }

    @Override
    public synchronized boolean isInboundDone() {
      return plain || real.isInboundDone();
    }

    @Override
    public synchronized boolean isOutboundDone() {
      return plain ? answered : real.isOutboundDone();
    }

    @Override
    public Runnable getDelegatedTask() {
      return real.getDelegatedTask();
    }

    @Override
    public void closeInbound() throws SSLException {
      synchronized (this) {
        if (plain) {
          return;
        }
      }
      real.closeInbound();
    }

    @Override
    public void closeOutbound() {
      real.closeOutbound();
    }

    @Override
    public String[] getSupportedCipherSuites() {
      return real.getSupportedCipherSuites();
    }

    @Override
    public String[] getEnabledCipherSuites() {
      return real.getEnabledCipherSuites();
    }

    @Override
    public void setEnabledCipherSuites(String[] suites) {
      real.setEnabledCipherSuites(suites);
    }

    @Override
    public String[] getSupportedProtocols() {
      return real.getSupportedProtocols();
    }

    @Override
    public String[] getEnabledProtocols() {
      return real.getEnabledProtocols();
    }

    @Override
    public void setEnabledProtocols(String[] protocols) {
      real.setEnabledProtocols(protocols);
    }

    @Override
    public SSLSession getSession() {
      return real.getSession();
    }

    @Override
    public SSLSession getHandshakeSession() {
      return real.getHandshakeSession();
    }

    @Override
    public void beginHandshake() throws SSLException {
      real.beginHandshake();
    }

    @Override
    public void setUseClientMode(boolean mode) {
      real.setUseClientMode(mode);
    }

    @Override
    public boolean getUseClientMode() {
      return real.getUseClientMode();
    }

    @Override
    public void setNeedClientAuth(boolean need) {
      real.setNeedClientAuth(need);
    }

    @Override
    public boolean getNeedClientAuth() {
      return real.getNeedClientAuth();
    }

    @Override
    public void setWantClientAuth(boolean want) {
      real.setWantClientAuth(want);
    }

    @Override
    public boolean getWantClientAuth() {
      return real.getWantClientAuth();
    }

    @Override
    public void setEnableSessionCreation(boolean flag) {
      real.setEnableSessionCreation(flag);
    }

    @Override
    public boolean getEnableSessionCreation() {
      return real.getEnableSessionCreation();
    }

    @Override
    public SSLParameters getSSLParameters() {
      return real.getSSLParameters();
    }

    @Override
    public void setSSLParameters(SSLParameters params) {
      real.setSSLParameters(params);
    }

    @Override
    public String getApplicationProtocol() {
      return real.getApplicationProtocol();
    }

    @Override
    public String getHandshakeApplicationProtocol() {
      return real.getHandshakeApplicationProtocol();
    }
  }
}
