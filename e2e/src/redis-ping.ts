import { connect } from 'node:net';

/** True when a Redis on 127.0.0.1:port answers PING (after AUTH when a password is given). */
export function redisPing(port: number, password?: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => socket.destroy(new Error('no answer')));
    socket.on('error', reject);
    let data = '';
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString();
      if (data.includes('+PONG')) {
        socket.end();
        resolve(true);
      } else if (data.includes('-')) {
        socket.end();
        resolve(false);
      }
    });
    socket.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`);
  });
}
