// Security headers on the public port (issue 5). The Swagger UI needs inline styles and scripts
// of its own origin only; everything else is the strict default.
import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

export default fp(
  async (fastify) => {
    await fastify.register(helmet, {
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'", "'unsafe-inline'"],
          imgSrc: ["'self'", 'data:', 'validator.swagger.io'],
          connectSrc: ["'self'"],
          // Resellers reach the DBS by IP over plain HTTP today (IP_DO_SEU_DBS/api/documentation):
          // upgrading the UI's own script requests to https would break the page there.
          upgradeInsecureRequests: null,
        },
      },
    });
  },
  { name: 'helmet' },
);
