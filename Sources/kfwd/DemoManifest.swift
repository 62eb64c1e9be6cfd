/// The demo's cluster. `kfwd demo` is how to run it; for kubesim alone, save this as a file
/// and pass it to `kubesim serve --manifests`.
enum DemoManifest {
    static let yaml = """
        # A small shop: an HTTP service with three replicas, a TCP echo and a UDP echo.
        apiVersion: v1
        kind: Namespace
        metadata:
          name: shop
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
          namespace: shop
          labels:
            app: web
        spec:
          replicas: 3
          selector:
            matchLabels:
              app: web
          template:
            metadata:
              labels:
                app: web
              annotations:
                kubesim.io/ready-delay-seconds: "1"
            spec:
              containers:
              - name: web
                image: kubesim/http-echo:1.0
                ports:
                - name: http
                  containerPort: 8080
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web
          namespace: shop
        spec:
          selector:
            app: web
          ports:
          - name: http
            port: 80
            targetPort: http
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: echo
          namespace: shop
          labels:
            app: echo
        spec:
          containers:
          - name: echo
            image: kubesim/tcp-echo
            ports:
            - containerPort: 7000
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: dns
          namespace: shop
        spec:
          selector:
            app: dns
          ports:
          - name: dns
            port: 5353
            protocol: UDP
            targetPort: 5353
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: dns
          namespace: shop
        spec:
          replicas: 1
          selector:
            matchLabels:
              app: dns
          template:
            metadata:
              labels:
                app: dns
            spec:
              containers:
              - name: dns
                image: kubesim/udp-echo
                ports:
                - containerPort: 5353
                  protocol: UDP
        """
}
